// The rule text of an `-A CHAIN …` line in the form iptables-save writes it (and kube-proxy writes its payloads):
// every option spelled out in full as its own word, `!` a word before the option it inverts, each match loaded
// with `-m` before its options, no clustered short options,
// no `--opt=value`. Such a line means the same to getopt_long as to a plain left-to-right reading, so it is read
// that way, feeding the same RuleBuilder and module parsers as the full command-line parser, without getopt's
// cursor, option lookup by prefix or per-word positions. Anything else (an abbreviation, a cluster, an unknown
// word, a backslash in a quoted word, `-c`) and any refusal make `parseSavedRule` answer null, and the caller
// parses the line with the full parser, which reports the refusal at its word: the result of a line never depends
// on which of the two read it (test/iptables/restore-fast.test.ts compares them).

import type { Arg } from './args.js';
import { isBuiltinLongOption } from './command.js';
import { RuleBuilder, type RuleSpec } from './rule-spec.js';

/** Longest word iptables-restore accepts. */
const PARAM_MAX = 1023;

/** Words of `text` split as iptables-restore splits them, for lines without backslashes and mid-word quotes. */
function savedWords(text: string, words: string[], offs: number[]): boolean {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    let word: string;
    const start = i;
    if (c === 34) {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return false;
      word = text.slice(i + 1, close);
      if (word.includes('\\')) return false;
      i = close + 1;
    } else {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 32 || d === 9) break;
        if (d === 34 || d === 92 || d === 10 || d === 13) return false;
        j++;
      }
      word = text.slice(i, j);
      i = j;
    }
    // iptables-restore refuses `-t` anywhere on a line (and words too long): the full parser says so.
    if (word.length > PARAM_MAX) return false;
    if (word.charCodeAt(0) === 45) {
      if (word.charCodeAt(1) !== 45) {
        if (word.includes('t')) return false;
      } else if (word.startsWith('--t') && '--table'.startsWith(word)) return false;
    }
    words.push(word);
    offs.push(start);
  }
  return true;
}

const words: string[] = [];
const offs: number[] = [];

/** What a saved-form rule text parsed to, and where its `-j`/`-g` word starts in it (-1: none). */
export interface SavedRule {
  spec: RuleSpec;
  targetOff: number;
}

/**
 * Parses `text`, the words after `-A CHAIN ` of a restore line, if it is in saved form and valid; null otherwise
 * (the full parser then reads it). `chain` is the chain it is appended to.
 */
export function parseSavedRule(text: string, chain: string): SavedRule | null {
  words.length = 0;
  offs.length = 0;
  if (!savedWords(text, words, offs)) return null;
  try {
    return readWords(chain);
  } catch {
    return null;
  }
}

function readWords(chain: string): SavedRule | null {
  const b = new RuleBuilder();
  const n = words.length;
  let inv = false;
  let targetOff = -1;
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    if (w === '!') {
      if (inv) return null;
      inv = true;
      continue;
    }
    if (w.charCodeAt(0) !== 45 || w.length < 2) return null;
    const tok: Arg = { text: w };
    if (w.charCodeAt(1) === 45) {
      const name = w.slice(2);
      if (name === '' || name.includes('=') || isBuiltinLongOption(name)) return null;
      // Only an exact name: an abbreviation, or an option the implicit `-p` match would bring, is getopt's to
      // resolve (a prefix of a loaded option wins over the implicit load).
      const opt = b.extOptionNamed(name);
      if (opt === undefined) return null;
      const args = opt.spec.args;
      if (i + args >= n) return null;
      const values: Arg[] = [];
      for (let k = 1; k <= args; k++) values.push({ text: words[i + k]! });
      i += args;
      b.extOption(opt, tok, values, inv);
      inv = false;
      continue;
    }
    if (w.length !== 2) return null;
    const id = w[1]!;
    if (id === 'f') {
      b.frag(tok, inv);
      inv = false;
      continue;
    }
    if (i + 1 >= n) return null;
    const value: Arg = { text: words[++i]! };
    switch (id) {
      case 's':
      case 'd':
        b.address(id, tok, value, inv);
        break;
      case 'i':
      case 'o':
        b.iface(id, tok, value, inv);
        break;
      case 'p':
        b.protocol(tok, value, inv);
        break;
      case 'm':
        if (inv) return null;
        b.loadMatch(tok, value);
        break;
      case 'j':
      case 'g':
        if (inv) return null;
        b.jump(tok, value, id === 'g');
        targetOff = offs[i]!;
        break;
      default:
        return null;
    }
    inv = false;
  }
  if (inv) return null;
  // Built-in chains refuse an interface on the side the hook has none (command.ts reports it).
  if ((chain === 'PREROUTING' || chain === 'INPUT') && b.hasOut) return null;
  if ((chain === 'POSTROUTING' || chain === 'OUTPUT') && b.hasIn) return null;
  return { spec: b.finish(), targetOff };
}
