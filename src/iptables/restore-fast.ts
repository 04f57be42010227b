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

/**
 * The words of `text` as iptables-restore splits them, for lines without backslashes in quotes and mid-word quotes:
 * where each starts (`offs`, at its opening quote if quoted) and where its characters are (`from`, `to`). False for
 * other lines, and for lines iptables-restore refuses (`-t`, a word too long), which the full parser reports.
 */
function savedBounds(text: string): boolean {
  const n = text.length;
  let w = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    let f: number;
    let t: number;
    if (c === 34) {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return false;
      f = i + 1;
      t = close;
      const bs = text.indexOf('\\', f);
      if (bs >= 0 && bs < t) return false;
      i = close + 1;
    } else {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 32 || d === 9) break;
        if (d === 34 || d === 92 || d === 10 || d === 13) return false;
        j++;
      }
      f = i;
      t = j;
      i = j;
    }
    // iptables-restore refuses `-t` anywhere on a line (and words too long): the full parser says so.
    if (t - f > PARAM_MAX) return false;
    if (t > f && text.charCodeAt(f) === 45) {
      if (t - f < 2 || text.charCodeAt(f + 1) !== 45) {
        const tt = text.indexOf('t', f);
        if (tt >= 0 && tt < t) return false;
      } else if (t - f >= 3 && t - f <= 7 && text.charCodeAt(f + 2) === 116 && '--table'.startsWith(text.slice(f, t)))
        return false;
    }
    if (w === saved.offs.length) grow();
    saved.offs[w] = start;
    saved.from[w] = f;
    saved.to[w] = t;
    saved.n = ++w;
  }
  return true;
}

function grow(): void {
  const more = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(a.length * 2);
    b.set(a);
    return b;
  };
  saved.offs = more(saved.offs);
  saved.from = more(saved.from);
  saved.to = more(saved.to);
}

/**
 * The words of the text `scanSaved` or `splitSaved` read last: how many (`n`), where each starts in it (`offs`, at
 * its opening quote if quoted) and where its characters are (`from`, `to`); `splitSaved` also makes the words, and
 * `readSaved` gives, for each word read as the value of an option, the index of that option's word (-1 for the
 * others). Typed arrays reused from line to line: a payload has hundreds of thousands of lines.
 */
export const saved = {
  n: 0,
  words: [] as string[],
  offs: new Int32Array(64),
  from: new Int32Array(64),
  to: new Int32Array(64),
  optionOf: [] as number[],
};
const { words, optionOf } = saved;

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
  return splitSaved(text) ? readSaved(chain) : null;
}

/** Finds the words of `text` without making them; false if it is not in saved form. */
export function scanSaved(text: string): boolean {
  saved.n = 0;
  return savedBounds(text);
}

/** Makes the words of the text `scanSaved` read last. */
export function wordsOfScan(text: string): void {
  const { n, from, to } = saved;
  words.length = n;
  for (let k = 0; k < n; k++) words[k] = text.slice(from[k], to[k]);
}

/** Splits `text` into `saved`; false if it is not in saved form. */
function splitSaved(text: string): boolean {
  if (!scanSaved(text)) return false;
  wordsOfScan(text);
  return true;
}

/** Reads the words `splitSaved` split last, as `parseSavedRule` does. */
export function readSaved(chain: string): SavedRule | null {
  optionOf.length = words.length;
  optionOf.fill(-1);
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
      for (let k = 1; k <= args; k++) {
        values.push({ text: words[i + k]! });
        optionOf[i + k] = i;
      }
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
    optionOf[i + 1] = i;
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
        targetOff = saved.offs[i]!;
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
