// iptables-restore appends to chains mostly in the order the document declared them, and the transaction finds the
// next such chain by comparing its name only while nothing else changed the table. Model check: random documents
// of declarations, appends, deletions, creations, flushes and renames against a plain model of the chains.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IptablesError } from '../../src/iptables/errors.js';
import { applyRestore, parseRestore, restoreInto } from '../../src/iptables/restore.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';

const NAMES = ['A', 'B', 'C'];
const name = fc.constantFrom(...NAMES);

const line = fc.oneof(
  { weight: 3, arbitrary: name.map((n) => `:${n} - [0:0]`) },
  { weight: 6, arbitrary: fc.tuple(name, fc.nat(99)).map(([n, k]) => `-A ${n} -m comment --comment r${k}`) },
  { weight: 2, arbitrary: name.map((n) => `-X ${n}`) },
  name.map((n) => `-N ${n}`),
  name.map((n) => `-F ${n}`),
  fc.tuple(name, name).map(([a, b]) => `-E ${a} ${b}`),
  name.map((n) => `-D ${n} 1`),
  fc.tuple(name, fc.nat(99)).map(([n, k]) => `-I ${n} 1 -m comment --comment i${k}`),
);

/** The filter table's user chains after `lines` (rule comments by chain), or null if the document is refused. */
function model(start: Map<string, string[]>, lines: string[]): Map<string, string[]> | null {
  const t = new Map([...start].map(([k, v]) => [k, [...v]]));
  for (const l of lines) {
    const w = l.split(' ');
    const [op, n] = [w[0]!, w[1]!];
    if (op.startsWith(':')) {
      const c = op.slice(1);
      t.set(c, []);
    } else if (op === '-A') {
      const rules = t.get(n);
      if (rules === undefined) return null;
      rules.push(w[5]!);
    } else if (op === '-D') {
      const rules = t.get(n);
      if (rules === undefined || rules.length === 0) return null;
      rules.shift();
    } else if (op === '-I') {
      const rules = t.get(n);
      if (rules === undefined) return null;
      rules.unshift(w[6]!);
    } else if (op === '-X') {
      if (!t.has(n) || t.get(n)!.length > 0) return null;
      t.delete(n);
    } else if (op === '-N') {
      if (t.has(n)) return null;
      t.set(n, []);
    } else if (op === '-F') {
      if (!t.has(n)) return null;
      t.set(n, []);
    } else {
      const to = w[2]!;
      if (!t.has(n) || t.has(to)) return null;
      t.set(to, t.get(n)!);
      t.delete(n);
    }
  }
  return t;
}

/** iptables-save lists user chains by name. */
function saveOf(t: Map<string, string[]>): string {
  const names = [...t.keys()].sort();
  let out = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n';
  for (const k of names) out += `:${k} - [0:0]\n`;
  for (const k of names) for (const r of t.get(k)!) out += `-A ${k} -m comment --comment ${r}\n`;
  return `${out}COMMIT\n`;
}

describe('appends found among the chains a restore declared', () => {
  it('leave the chains a plain model of the document leaves', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.array(line, { maxLength: 40 }), (first, second) => {
        const s = new NetfilterState();
        let t = new Map<string, string[]>();
        for (const doc of [first, second]) {
          const want = model(t, doc);
          let refused = false;
          try {
            restoreInto(s, `*filter\n${doc.join('\n')}\nCOMMIT\n`, 'd', 1, { noflush: true });
          } catch (e) {
            if (!(e instanceof IptablesError)) throw e;
            refused = true;
          }
          expect(refused, doc.join('\n')).toBe(want === null);
          if (want !== null) t = want;
          expect(formatSave(s, { date: null, table: 'filter' }), doc.join('\n')).toBe(saveOf(t));
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('declare chains as the full reading of `:` lines does, refusals and all', () => {
    const names = [
      'A',
      'KUBE-SEP-X',
      '-x',
      '!x',
      'a'.repeat(28),
      'a'.repeat(29),
      'DNAT',
      'ACCEPT',
      'INPUT',
      'a\u000bb',
    ];
    const declaration = fc
      .tuple(fc.constantFrom(...names), fc.constantFrom(' - [0:0]', ' ACCEPT', ' -', '  -', '\t-', ' - [0:0]\r', ''))
      .map(([n, rest]) => `:${n}${rest}`);
    const outcome = (apply: (s: NetfilterState) => void): string => {
      const s = new NetfilterState();
      try {
        apply(s);
      } catch (e) {
        if (!(e instanceof IptablesError)) throw e;
        return `${e.message} @${e.pos?.line}:${e.pos?.col}`;
      }
      return formatSave(s, { date: null, table: 'filter' });
    };
    fc.assert(
      fc.property(fc.array(declaration, { minLength: 1, maxLength: 6 }), (lines) => {
        const doc = `*filter\n${lines.join('\n')}\n-A A -j ACCEPT\nCOMMIT\n`;
        const direct = outcome((s) => restoreInto(s, doc, 'd', 1, { noflush: true }));
        const parsed = outcome((s) => applyRestore(s, parseRestore(doc, 'd', 1, { noflush: true })));
        expect(direct, doc).toBe(parsed);
      }),
      { numRuns: 1000 },
    );
  });
});
