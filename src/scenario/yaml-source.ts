// From values back to places in the YAML text. `offsetOf` finds the node for a data path (schema errors), and
// `scalarSource` maps every character of a string scalar's value to the file offset it came from, so a
// command inside a list item or a `|` block reports the line and column of the exact word. Plain scalars map
// one to one; quoted scalars are decoded unit by unit (`''`, `\"`, `\t`, `\x41`, `\u263A` …); block scalars
// skip their header line. Line folding and indentation are bridged by aligning the decoded units with the
// value: characters that were dropped or turned into a space are skipped. Positions of whitespace inside a
// folded scalar may be off by a column; words always map exactly.

import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { CommandSource } from './commands/tokenize.js';

type Doc = Document.Parsed;

function deref(doc: Doc, node: unknown): unknown {
  return isAlias(node) ? (node.resolve(doc) ?? node) : node;
}

function startOf(node: unknown): number | undefined {
  const r = (node as YamlNode | null)?.range;
  return r ? r[0] : undefined;
}

/**
 * File offset for `path`: the value node at the path (`key` false) or the key of its last element (`key`
 * true). Stops at the deepest node that exists, so a path into a missing value lands on its container.
 */
export function offsetOf(doc: Doc, path: readonly PropertyKey[], key = false): number {
  let node: unknown = doc.contents;
  let best = startOf(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    node = deref(doc, node);
    const seg = path[i]!;
    const last = i === path.length - 1;
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = deref(doc, p.key);
        return isScalar(k) ? String(k.value) === String(seg) : false;
      });
      if (pair === undefined) return best;
      keyNode = pair.key;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    } else {
      return best;
    }
    if (last && key && keyNode !== undefined) return startOf(keyNode) ?? best;
    const at = startOf(next) ?? startOf(keyNode);
    if (at === undefined) return best;
    best = at;
    node = next;
  }
  return best;
}

/** The node at `path` (aliases resolved), or undefined. */
export function nodeAt(doc: Doc, path: readonly PropertyKey[]): unknown {
  let node: unknown = deref(doc, doc.contents);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = deref(doc, p.key);
        return isScalar(k) && String(k.value) === String(seg);
      });
      node = deref(doc, pair?.value);
    } else if (isSeq(node) && typeof seg === 'number') {
      node = deref(doc, node.items[seg]);
    } else {
      return undefined;
    }
  }
  return node;
}

interface Unit {
  at: number;
  ch: string;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

const HEX_LEN: Record<string, number> = { x: 2, u: 4, U: 8 };

/** The characters a scalar's source produces, each with the offset of the source text that produced it. */
function units(text: string, start: number, end: number, type: Scalar['type']): Unit[] {
  const out: Unit[] = [];
  const push = (at: number, s: string): void => {
    for (const ch of s.split('')) out.push({ at, ch });
  };
  if (type === Scalar.QUOTE_SINGLE) {
    for (let i = start + 1; i < end; i++) {
      if (text[i] === "'") {
        if (text[i + 1] !== "'") break;
        push(i, "'");
        i++;
      } else push(i, text[i]!);
    }
  } else if (type === Scalar.QUOTE_DOUBLE) {
    for (let i = start + 1; i < end; i++) {
      const c = text[i]!;
      if (c === '"') break;
      if (c !== '\\') {
        push(i, c);
        continue;
      }
      const e = text[i + 1] ?? '';
      const n = HEX_LEN[e];
      if (n !== undefined) {
        const code = Number.parseInt(text.slice(i + 2, i + 2 + n), 16);
        if (Number.isFinite(code) && code <= 0x10ffff) push(i, String.fromCodePoint(code));
        i += 1 + n;
      } else if (ESCAPES[e] !== undefined) {
        push(i, ESCAPES[e]);
        i++;
      } else {
        i++; // escaped line break: produces nothing
      }
    }
  } else {
    let i = start;
    if (type === Scalar.BLOCK_LITERAL || type === Scalar.BLOCK_FOLDED) {
      const nl = text.indexOf('\n', start);
      i = nl < 0 || nl >= end ? end : nl + 1;
    }
    for (; i < end; i++) push(i, text[i]!);
  }
  return out;
}

const LOOKAHEAD = 512;

/** For each value offset (and one past the end), the source offset it came from. */
function align(value: string, us: readonly Unit[], fallback: number): Int32Array {
  const map = new Int32Array(value.length + 1);
  let u = 0;
  let prev = fallback - 1;
  for (let j = 0; j < value.length; j++) {
    let k = u;
    const limit = Math.min(us.length, u + LOOKAHEAD);
    while (k < limit && us[k]!.ch !== value[j]) k++;
    if (k < limit) {
      prev = us[k]!.at;
      u = k + 1;
    } else {
      prev += 1;
    }
    map[j] = prev;
  }
  map[value.length] = prev + 1;
  return map;
}

/** A command source over a string scalar: offsets in its value become file positions. */
export function scalarSource(text: string, node: Scalar, file: string, lc: LineCounter): CommandSource {
  const value = String(node.value);
  const [start, end] = node.range ?? [0, 0];
  const map = align(value, units(text, start, end, node.type), start);
  return {
    file,
    text: value,
    locate: (offset) => lc.linePos(map[Math.max(0, Math.min(offset, value.length))]!),
  };
}

/** True when a plain or quoted scalar's source spans lines (its line breaks were folded into spaces). */
export function isFoldedFlow(text: string, node: Scalar): boolean {
  const [start, end] = node.range ?? [0, 0];
  return (
    (node.type === Scalar.PLAIN || node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE) &&
    text.slice(start, end).includes('\n')
  );
}
