// A rule kept as text records the chain it jumps to; the loader takes that name from the chain declared just before
// when it matches, from the last name it looked up, or from the text. Whatever order the document declares and jumps
// in, every recorded jump must name the chain the rule's text names: checked through the references each chain has
// (which a wrong name would move to another chain) and through the loop check at commit, against a plain model.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IptablesError } from '../../src/iptables/errors.js';
import { restoreInto } from '../../src/iptables/restore.js';
import { NetfilterState } from '../../src/iptables/state.js';

// Names of one length, differing late (as KUBE-SEP-… names do), and one of another length.
const NAMES = ['KUBE-SEP-AAAA1', 'KUBE-SEP-AAAA2', 'KUBE-SEP-AAAB1', 'KUBE-SVC-AAAA1', 'KUBE-MARK-MASQ-X'];

const doc = fc.record({
  order: fc.shuffledSubarray(NAMES, { minLength: NAMES.length, maxLength: NAMES.length }),
  rules: fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...NAMES), fc.nat(9), fc.boolean()), {
    maxLength: 40,
  }),
  entry: fc.constantFrom(...NAMES),
});

/** Whether a chain reached from `start` can reach itself again. */
function loops(edges: [string, string][], start: string): boolean {
  const state = new Map<string, number>();
  const visit = (n: string): boolean => {
    state.set(n, 1);
    for (const [a, b] of edges) {
      if (a !== n) continue;
      if (state.get(b) === 1 || (state.get(b) === undefined && visit(b))) return true;
    }
    state.set(n, 2);
    return false;
  };
  return visit(start);
}

describe('jump names of rules kept as text', () => {
  it('name the chain the text names, in any order of declarations and jumps', () => {
    fc.assert(
      fc.property(doc, ({ order, rules, entry }) => {
        const lines = ['*filter', ...order.map((n) => `:${n} - [0:0]`), `-A INPUT -j ${entry}`];
        for (const [from, to, k, go] of rules)
          lines.push(`-A ${from} -s 10.0.0.${k + 1}/32 -m comment --comment c${k} ${go ? '-g' : '-j'} ${to}`);
        lines.push('COMMIT', '');
        const state = new NetfilterState();
        const edges: [string, string][] = [['INPUT', entry], ...rules.map(([a, b]): [string, string] => [a, b])];
        let refused: IptablesError | null = null;
        try {
          restoreInto(state, lines.join('\n'), 'doc', 1, { noflush: true }, () => false);
        } catch (e) {
          if (!(e instanceof IptablesError)) throw e;
          refused = e;
        }
        expect(refused !== null).toBe(loops(edges, 'INPUT'));
        if (refused !== null) {
          expect(refused.message).toContain('Too many levels of symbolic links');
          return;
        }
        for (const n of NAMES) {
          const expected = rules.filter(([, to]) => to === n).length + (entry === n ? 1 : 0);
          expect(state.references('filter', n)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
