// What iptables-restore needs of a rule line it keeps as text (lazy-rule.ts), learnt once per shape of line instead
// of once per line. kube-proxy's payload is a hundred thousand lines of a handful of shapes that differ only in
// addresses, ports, comments and the chains they jump to (`-s 10.244.1.5/32 -j KUBE-MARK-MASQ`,
// `-m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080`). A line's shape is its saved-form words with the value
// of each option below replaced by the class of that value; a class holds only values that every context accepts
// alike, so a line of a shape seen valid is valid too and needs the same facts (tables, hooks, conntrack), its jump
// target being its own `-j` word:
//   -s, -d            a plain dotted quad, alone, with a /1–/32 prefix, or with /0 (which `!` refuses)
//   --dport, --sport, a port 1–65535 in plain decimal
//   --to-destination  a plain dotted quad, alone or with :PORT
//   --comment         any text (a comment is cut, never refused)
//   -j, -g            a name that is no target, verdict or known target: a chain
// Any other value is part of the shape as it is. The first line of each shape is parsed in full (restore-fast.ts)
// and the shape remembered only if that parse read every classed value as the value of its option; a line whose
// shape has not been seen valid is left to the caller, which parses it and reports any refusal. Only rules whose
// template has one part, no per-rule state, no counters and no nfacct objects are kept as text.

import { findTarget, KNOWN_TARGETS, targetNamesHaveHyphen } from './ext.js';
import type { RuleKind } from './lazy-rule.js';
import { ownCopy, ruleKind } from './lazy-rule.js';
import { readSaved, saved, scanSaved, wordsOfScan } from './restore-fast.js';
import { MAX_CHAIN_NAME, templateOf } from './rule-spec.js';
import { STANDARD_VERDICTS } from './targets/standard.js';
import { textAt } from './text-at.js';
import { factsOf } from './validate.js';

/** What a line kept as text needs: its facts apart from the jump, and where its target and jump words are. */
export interface LazyLine {
  kind: RuleKind;
  /** Offset of the target's name (the word after `-j`/`-g`) in the text (-1: none). */
  targetOff: number;
  /** Offset and length of the chain jumped or gone to (-1: none). */
  jumpOff: number;
  jumpLen: number;
}

/** A shape seen valid: its kind and which word names the target (-1: none); null: not kept as text. */
type Shape = { kind: RuleKind; targetIdx: number; jumps: boolean } | null;

/** How lines were answered: matched against the shape expected next, or read word by word (tests, benchmarks). */
export const lineShapeStats = { matched: 0, read: 0 };

/** Few shapes in practice; the bound keeps odd documents from growing the table without end. */
const CAPACITY = 4096;
let shapes = new Map<string, Learnt>();

/** Plain decimal `text[from, to)` of at most `max` (no sign, no leading zero), or -1. */
function plainNumber(text: string, from: number, to: number, max: number): number {
  if (to <= from || to - from > 5 || (to - from > 1 && text.charCodeAt(from) === 48)) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + c - 48;
  }
  return v > max ? -1 : v;
}

/** Where a plain dotted quad starting at `from` ends before `to` (four parts of 0–255 in plain decimal), or -1. */
function dottedQuadEnd(text: string, from: number, to: number): number {
  let i = from;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= to || text.charCodeAt(i) !== 46) return -1;
      i++;
    }
    const start = i;
    while (i < to && i - start < 4) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    if (plainNumber(text, start, i, 255) < 0) return -1;
  }
  return i;
}

/** A class of the value in `text[from, to)`, or null. */
type Classifier = (text: string, from: number, to: number) => string | null;

const addressClass: Classifier = (text, from, to) => {
  const end = dottedQuadEnd(text, from, to);
  if (end < 0) return null;
  if (end === to) return 'A';
  if (text.charCodeAt(end) !== 47) return null;
  const len = plainNumber(text, end + 1, to, 32);
  if (len < 0) return null;
  return len === 0 ? 'A/0' : 'A/';
};

const portClass: Classifier = (text, from, to) => (plainNumber(text, from, to, 0xffff) > 0 ? 'P' : null);

const natToClass: Classifier = (text, from, to) => {
  const end = dottedQuadEnd(text, from, to);
  if (end < 0) return null;
  if (end === to) return 'T';
  if (text.charCodeAt(end) !== 58) return null;
  return plainNumber(text, end + 1, to, 0xffff) > 0 ? 'T:P' : null;
};

const commentClass: Classifier = () => 'S';

/** Whether a verdict or a target iptables ships has a `-` in its name (none does). */
const HYPHEN_NAMES = [...STANDARD_VERDICTS, ...KNOWN_TARGETS].some((n) => n.includes('-'));

const chainClass: Classifier = (text, from, to) => {
  if (to <= from || to - from > MAX_CHAIN_NAME) return null;
  // A plain ASCII name with a `-` (kube-proxy's KUBE-SEP-…) names no verdict or target: known without cutting the
  // word out and looking it up (a payload has a jump per rule).
  let hyphen = false;
  let plain = true;
  for (let i = from; i < to && plain; i++) {
    const c = text.charCodeAt(i);
    if (c === 45) hyphen = true;
    else if (c <= 32 || c >= 127) plain = false;
  }
  if (plain && hyphen && !HYPHEN_NAMES && !targetNamesHaveHyphen()) return 'C';
  const w = text.slice(from, to);
  if (/\s/.test(w)) return null;
  if ((STANDARD_VERDICTS as readonly string[]).includes(w) || findTarget(w) !== undefined || KNOWN_TARGETS.has(w))
    return null;
  return 'C';
};

/** The classifier of the option spelled `text[from, to)`, if its value is classed. */
function classifierOf(text: string, from: number, to: number): Classifier | undefined {
  if (text.charCodeAt(from) !== 45) return undefined;
  switch (to - from) {
    case 2: {
      const c = text.charCodeAt(from + 1);
      if (c === 115 || c === 100) return addressClass; // -s -d
      if (c === 106 || c === 103) return chainClass; // -j -g
      return undefined;
    }
    case 7:
      if (text.startsWith('--dport', from) || text.startsWith('--sport', from)) return portClass;
      return undefined;
    case 9:
      return text.startsWith('--comment', from) ? commentClass : undefined;
    case 16:
      return text.startsWith('--to-destination', from) ? natToClass : undefined;
    default:
      return undefined;
  }
}

/** Built-in chains check `-i`/`-o` (restore-fast.ts): the chain is part of the shape there. */
function chainPart(chain: string): string {
  if (chain === 'PREROUTING' || chain === 'INPUT') return 'I';
  if (chain === 'POSTROUTING' || chain === 'OUTPUT') return 'O';
  return '-';
}

/** Of the line being read: the classed options (word index), and each classed value's extent and class. */
const classed: number[] = [];
const valueStart: number[] = [];
const valueEnd: number[] = [];
const valueClass: string[] = [];

/**
 * The shape of the line read last: a document repeats runs of lines in the same order of shapes (kube-proxy's
 * chains of one Service are much like those of the next), so each shape remembers the one that followed it, and
 * comparing a line with that one piece by piece costs less than making its key and hashing it.
 */
let last: Learnt | null = null;

/** A shape as learnt: the text around its classed values, their classes, and what its lines need. */
interface Learnt {
  /** What of the chain the shape depends on (chainPart). */
  chain: string;
  pieces: string[];
  classes: string[];
  shape: Shape;
  /**
   * The shape of the line after the last line of this shape, and the one that followed it before when that was
   * another: a run of one chain's lines often ends in either of two ways (kube-proxy's last rule of a KUBE-SEP chain
   * is followed by the next endpoint's chain, or by the next Service's KUBE-SERVICES line).
   */
  next: Learnt | null;
  alt: Learnt | null;
  /** Lines can be matched against the shape without reading their words (`matchShape`). */
  fast: boolean;
  /** Per classed value: its option's classifier, whether quoted, its class without the quote mark. */
  classifiers: Classifier[];
  /** Per classed value: its classifier accepts digits, dots, `/` and `:` only (so the value is a bare word). */
  numeric: boolean[];
  quoted: boolean[];
  bare: string[];
  /** The classed value that names the target (-1: none), else the piece that holds it and where. */
  targetSlot: number;
  targetPiece: number;
  targetPieceOff: number;
}

/** Longest word iptables-restore accepts. */
const PARAM_MAX = 1023;

/** `text[from, to)` is one unquoted word of a saved-form line: not empty, no quote, backslash, tab or line break. */
function bareWord(text: string, from: number, to: number): boolean {
  if (to <= from || to - from > PARAM_MAX) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 92 || c === 9 || c === 10 || c === 13) return false;
  }
  return true;
}

/**
 * Whether `doc` from `start` to `stop` is a line of shape `l` (then `found` says what it needs): its pieces compared in
 * place and each classed value classed,
 * without reading the line's words (the pieces are words as they were, each value one word of its class). Null if
 * the line differs anywhere or has anything unusual (a value starting with `-`, a tab), which the caller reads word
 * by word.
 */
function matchShape(l: Learnt, doc: string, start: number, stop: number, part: string): boolean {
  const shape = l.shape;
  if (shape === null || !l.fast || l.chain !== part) return false;
  const m = l.classes.length;
  let pos = start;
  let targetOff = -1;
  let jumpOff = -1;
  let jumpLen = 0;
  for (let j = 0; j <= m; j++) {
    const piece = l.pieces[j]!;
    if (pos + piece.length > stop || !textAt(doc, pos, piece)) return false;
    if (j === l.targetPiece) targetOff = pos - start + l.targetPieceOff;
    pos += piece.length;
    if (j === m) break;
    let f = pos;
    let t: number;
    let end: number;
    if (l.quoted[j]) {
      if (doc.charCodeAt(pos) !== 34) return false;
      f = pos + 1;
      t = doc.indexOf('"', f);
      if (t < 0 || t >= stop || t - f > PARAM_MAX) return false;
      // Searched within the value only: an unbounded search runs to the end of a document without backslashes.
      for (let i = f; i < t; i++) if (doc.charCodeAt(i) === 92) return false;
      end = t + 1;
    } else {
      t = doc.indexOf(' ', pos);
      if (t < 0 || t > stop) t = stop;
      if (!l.numeric[j] && !bareWord(doc, f, t)) return false;
      end = t;
    }
    if (doc.charCodeAt(f) === 45 || l.classifiers[j]!(doc, f, t) !== l.bare[j]) return false;
    if (j === l.targetSlot) {
      targetOff = pos - start;
      jumpOff = f - start;
      jumpLen = t - f;
    }
    pos = end;
  }
  if (pos !== stop) return false;
  found.kind = shape.kind;
  found.targetOff = targetOff;
  found.jumpOff = shape.jumps ? jumpOff : -1;
  found.jumpLen = shape.jumps ? jumpLen : 0;
  return true;
}

/** Fills in how lines of `l`, learnt from the line being read, are matched without reading their words. */
function prepareMatch(l: Learnt, text: string): void {
  const { offs, from, to } = saved;
  const m = l.classes.length;
  for (let j = 0; j < m; j++) {
    const k = classed[j]!;
    const cls = classifierOf(text, from[k]!, to[k]!)!;
    l.classifiers.push(cls);
    l.numeric.push(cls === addressClass || cls === portClass || cls === natToClass);
    l.quoted.push(valueStart[j] !== from[k + 1]);
    l.bare.push(l.quoted[j] ? l.classes[j]!.slice(0, -1) : l.classes[j]!);
  }
  const shape = l.shape;
  if (shape === null) return;
  const t = shape.targetIdx;
  if (t >= 0) {
    const slot = classed.indexOf(t - 1);
    if (slot >= 0) l.targetSlot = slot;
    else {
      // The piece the target word is in: pieces run from the end of one value to the start of the next.
      for (let j = 0, prev = 0; j <= m; j++) {
        const end = j < m ? valueStart[j]! : text.length;
        if (offs[t]! >= prev && offs[t]! < end) {
          l.targetPiece = j;
          l.targetPieceOff = offs[t]! - prev;
        }
        if (j < m) prev = valueEnd[j]!;
      }
      if (l.targetPiece < 0) return;
    }
  }
  // A jump is always a classed value (a chain's name is one); a shape whose jump is not is read word by word.
  l.fast = !shape.jumps || l.targetSlot >= 0;
}

/**
 * The shape of the line being read (its classed values found), from the table, or (first of its shape) a full
 * parse. The shape expected next was tried already (`matchShape`).
 */
function learnt(text: string, part: string, chain: string): Learnt | null {
  // The key: the text with each classed value replaced by a line break (no line holds one) and its class.
  const m = valueClass.length;
  const pieces: string[] = new Array(m + 1);
  let key = part;
  let prev = 0;
  for (let j = 0; j <= m; j++) {
    const end = j < m ? valueStart[j]! : text.length;
    // Own copies: a shape outlives the document it was first seen in.
    pieces[j] = ownCopy(text.slice(prev, end));
    key += `${pieces[j]}\n${j < m ? valueClass[j] : ''}`;
    if (j < m) prev = valueEnd[j]!;
  }
  let l = shapes.get(key);
  if (l === undefined) {
    wordsOfScan(text);
    const parsed = readSaved(chain);
    if (parsed === null) return null;
    l = {
      chain: part,
      pieces,
      classes: valueClass.slice(),
      shape: shapeOf(parsed.spec, parsed.targetOff),
      next: null,
      alt: null,
      fast: false,
      classifiers: [],
      numeric: [],
      quoted: [],
      bare: [],
      targetSlot: -1,
      targetPiece: -1,
      targetPieceOff: 0,
    };
    prepareMatch(l, text);
    if (shapes.size >= CAPACITY) shapes = new Map();
    shapes.set(key, l);
  }
  if (last !== null && last.next !== l) {
    last.alt = last.next;
    last.next = l;
  }
  last = l;
  return l;
}

/** What the line `lazyLineAt` accepted last needs (offsets from its start); overwritten by the next call. */
export const found: LazyLine = {
  kind: { tables: undefined, hooks: 0, conntrack: false, nfacct: [] },
  targetOff: -1,
  jumpOff: -1,
  jumpLen: 0,
};

/**
 * Whether the line `doc[start, stop)`, the words after `-A CHAIN ` of a plain document's line, can be kept as text
 * (then `found` says what it needs). False: the line is not in saved form, not valid, or of a kind not kept as text
 * (the caller parses it in full).
 */
export function lazyLineAt(doc: string, start: number, stop: number, chain: string): boolean {
  const part = chainPart(chain);
  const prev = last;
  if (prev !== null) {
    const guess = prev.next;
    if (guess !== null && matchShape(guess, doc, start, stop, part)) {
      last = guess;
      lineShapeStats.matched++;
      return true;
    }
    const alt = prev.alt;
    if (alt !== null && matchShape(alt, doc, start, stop, part)) {
      // The latest successor first.
      prev.alt = guess;
      prev.next = alt;
      last = alt;
      lineShapeStats.matched++;
      return true;
    }
  }
  lineShapeStats.read++;
  const text = doc.slice(start, stop);
  if (!scanSaved(text)) return false;
  const { n, offs, from, to } = saved;
  classed.length = 0;
  valueStart.length = 0;
  valueEnd.length = 0;
  valueClass.length = 0;
  for (let k = 0; k + 1 < n; k++) {
    const cls = classifierOf(text, from[k]!, to[k]!);
    if (cls === undefined) continue;
    const c = cls(text, from[k + 1]!, to[k + 1]!);
    if (c === null) continue;
    const at = offs[k + 1]!;
    // A quoted value (after which a word may follow without a space) is a class of its own, quotes and all.
    const quoted = at !== from[k + 1];
    classed.push(k);
    valueStart.push(at);
    valueEnd.push(quoted ? to[k + 1]! + 1 : to[k + 1]!);
    valueClass.push(quoted ? `${c}q` : c);
    k++;
  }
  const l = learnt(text, part, chain);
  const shape = l?.shape ?? null;
  if (shape === null) return false;
  found.kind = shape.kind;
  const t = shape.targetIdx;
  found.targetOff = t < 0 ? -1 : offs[t]!;
  found.jumpOff = t >= 0 && shape.jumps ? from[t]! : -1;
  found.jumpLen = t >= 0 && shape.jumps ? to[t]! - from[t]! : 0;
  return true;
}

/** `lazyLineAt` on a line of its own: what it needs, or null. */
export function lazyLine(text: string, chain: string): LazyLine | null {
  return lazyLineAt(text, 0, text.length, chain) ? { ...found } : null;
}

/** The shape of the line just read (whose words are in `saved`), from what it parsed to. */
function shapeOf(spec: Parameters<typeof templateOf>[0], targetOff: number): Shape {
  const { words, offs, optionOf } = saved;
  // Every classed value must have been read as the one value of the option before it.
  for (const i of classed) {
    if (optionOf[i + 1] !== i || (i + 2 < words.length && optionOf[i + 2] === i)) return null;
  }
  const template = templateOf(spec);
  if (template.more.length !== 0 || template.perRule !== null || template.counters !== null) return null;
  const facts = factsOf(template);
  if (facts.nfacct.length !== 0) return null;
  let targetIdx = -1;
  for (let k = 0; targetOff >= 0 && k < saved.n; k++) if (offs[k] === targetOff) targetIdx = k;
  if (targetOff >= 0 && targetIdx < 0) return null;
  const jumps = facts.jumpTo !== undefined;
  if (jumps && (targetIdx < 0 || words[targetIdx] !== facts.jumpTo)) return null;
  return { kind: ruleKind(facts), targetIdx, jumps };
}

/** Forgets every shape (tests). */
export function clearLineShapes(): void {
  shapes = new Map();
  last = null;
}
