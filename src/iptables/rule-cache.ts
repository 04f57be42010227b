// The rule lines iptables-restore parsed lately, by their exact text after `-A CHAIN `: what the line parsed to
// (a RuleTemplate) does not depend on the chain, the table or the line's place (the target word is kept as an
// offset into the text), so a line seen before costs one lookup instead of a parse. kube-proxy sends its whole
// KUBE-SERVICES chain, one rule per Service, on every sync. Only lines that parsed without error are kept, and the
// chain-dependent checks (`-o` in PREROUTING/INPUT, `-i` in POSTROUTING/OUTPUT) are left to the caller. Two generations of at most CAPACITY
// entries each bound the memory: a hit in the older one moves the entry to the newer, and when the newer is full
// the older is dropped.

import { ownCopy } from './lazy-rule.js';
import type { RuleTemplate } from './rule-spec.js';

const CAPACITY = 1 << 16;

let young = new Map<string, RuleTemplate>();
let old = new Map<string, RuleTemplate>();

/** The entry for `text`, if one is kept. */
export function cachedRuleLine(text: string): RuleTemplate | undefined {
  const hit = young.get(text);
  if (hit !== undefined) return hit;
  const aged = old.get(text);
  if (aged !== undefined) {
    old.delete(text);
    put(text, aged);
  }
  return aged;
}

/** Keeps `entry` for `text` (a slice of a whole document: the key is copied so it does not keep the document). */
export function cacheRuleLine(text: string, entry: RuleTemplate): void {
  put(ownCopy(text), entry);
}

function put(key: string, entry: RuleTemplate): void {
  if (young.size >= CAPACITY) {
    old = young;
    young = new Map();
  }
  young.set(key, entry);
}

/** Forgets every line. */
export function clearRuleLineCache(): void {
  young = new Map();
  old = new Map();
}
