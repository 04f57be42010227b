// From an API field path back to the manifest text: walks a parsed YAML document along the path (map keys, list
// indexes, map keys of labels) and returns the line and column of what it finds. A value error points at the value,
// an unknown field at its key, and a path into something the manifest does not have (a required field left out)
// at the key of the deepest part that exists. `clusterIPs` falls back to `clusterIP`, which the API server copies
// into it. Positions come from the yaml package's LineCounter (1-based, UTF-16 columns).

import type { Document, LineCounter } from 'yaml';
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { FieldPath } from './errors.js';

export interface LinePos {
  line: number;
  col: number;
}

/** Where an object came from: its file, and how to place one of its field paths in it. */
export interface ObjectSource {
  file: string;
  locate(path: FieldPath, opts?: { key?: boolean }): LinePos;
}

const ALIASES: Record<string, string> = { clusterIPs: 'clusterIP' };

function start(node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r ? r[0] : undefined;
}

/** A locator over `doc` whose paths are relative to `prefix` (the position of a List item). */
export function documentSource(
  file: string,
  doc: Document.Parsed,
  lc: LineCounter,
  prefix: readonly (string | number)[] = [],
): ObjectSource {
  const deref = (n: unknown): unknown => (isAlias(n) ? (n.resolve(doc) ?? n) : n);
  const locate = (path: FieldPath, opts: { key?: boolean } = {}): LinePos => {
    const segs: (string | number)[] = [...prefix, ...path.map((s) => (typeof s === 'object' ? s.key : s))];
    let node: unknown = deref(doc.contents);
    let best = start(node) ?? 0;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      const last = i === segs.length - 1;
      let next: unknown;
      let keyAt: number | undefined;
      if (isMap(node)) {
        const map = node;
        const find = (name: string) =>
          map.items.find((p) => {
            const k = deref(p.key);
            return isScalar(k) && String(k.value) === name;
          });
        const pair = find(String(seg)) ?? (ALIASES[String(seg)] ? find(ALIASES[String(seg)]!) : undefined);
        if (pair === undefined) return lc.linePos(best);
        keyAt = start(pair.key);
        next = deref(pair.value);
        if (last && opts.key && keyAt !== undefined) return lc.linePos(keyAt);
      } else if (isSeq(node) && typeof seg === 'number') {
        next = deref(node.items[seg]);
        if (next === undefined) return lc.linePos(best);
      } else {
        return lc.linePos(best);
      }
      const at = start(next) ?? keyAt;
      if (at === undefined) return lc.linePos(best);
      // A missing child is reported at its parent's key, the line a reader looks for.
      best = last ? at : (keyAt ?? at);
      node = next;
    }
    return lc.linePos(best);
  };
  return { file, locate };
}
