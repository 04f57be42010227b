// A commit that changes few chains of a large table is validated incrementally (only below the chains whose jumps
// changed). Differential check: random command sequences on a nat table with many chains, applied to a state that
// validates incrementally and to one that validates every commit in full, must be accepted or refused alike, with
// the same message, and leave the same ruleset.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restoreInto } from '../../src/iptables/restore.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { validationStats } from '../../src/iptables/validate.js';
import { ipt } from './helpers.js';

const CHAINS = Array.from({ length: 16 }, (_, i) => `C${i}`);

// Neighbours, so that short loops form often.
const neighbours = fc
  .tuple(fc.integer({ min: 0, max: CHAINS.length - 2 }), fc.boolean())
  .map(([i, up]) => (up ? `-t nat -A C${i} -j C${i + 1}` : `-t nat -A C${i + 1} -j C${i}`));

const fromBuiltin = fc
  .tuple(fc.constantFrom('PREROUTING', 'OUTPUT', 'POSTROUTING', 'INPUT'), fc.constantFrom(...CHAINS))
  .map(([a, b]) => `-t nat -A ${a} -j ${b}`);

const command = fc.oneof(
  { arbitrary: neighbours, weight: 4 },
  { arbitrary: fromBuiltin, weight: 2 },
  fc
    .tuple(fc.constantFrom('PREROUTING', 'OUTPUT', 'POSTROUTING', 'INPUT'), fc.constantFrom(...CHAINS))
    .map(([a, b]) => `-t nat -A ${a} -j ${b}`),
  fc.tuple(fc.constantFrom(...CHAINS), fc.constantFrom(...CHAINS)).map(([a, b]) => `-t nat -A ${a} -j ${b}`),
  fc.tuple(fc.constantFrom(...CHAINS), fc.constantFrom(...CHAINS)).map(([a, b]) => `-t nat -I ${a} -j ${b}`),
  // Neighbours, so that short loops form often.
  fc
    .tuple(fc.integer({ min: 0, max: CHAINS.length - 2 }), fc.boolean())
    .map(([i, up]) => (up ? `-t nat -A C${i} -j C${i + 1}` : `-t nat -A C${i + 1} -j C${i}`)),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -A ${a} -p tcp -j DNAT --to-destination 10.0.0.1:80`),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -A ${a} -j MASQUERADE`),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -A ${a} -j RETURN`),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -F ${a}`),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -D ${a} 1`),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -X ${a}`),
  fc.constantFrom(...CHAINS).map((a) => `-t nat -N ${a}`),
  fc.tuple(fc.constantFrom(...CHAINS), fc.constantFrom(...CHAINS)).map(([a, b]) => `-t nat -E ${a} ${b}`),
);

function outcome(s: NetfilterState, line: string): string {
  try {
    ipt(s, line);
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('incremental validation', () => {
  it('accepts and refuses exactly what full validation does', () => {
    const refusals = new Set<string>();
    const before = validationStats.incremental;
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 200 }), (cmds) => {
        const quick = new NetfilterState();
        const full = new NetfilterState({ fullValidation: true });
        for (const c of CHAINS) {
          ipt(quick, `-t nat -N ${c}`);
          ipt(full, `-t nat -N ${c}`);
        }
        for (const line of cmds) {
          const o = outcome(quick, line);
          expect(o, line).toBe(outcome(full, line));
          if (o.includes('Invalid argument')) refusals.add('hook');
          if (o.includes('symbolic links')) refusals.add('loop');
        }
        expect(formatSave(quick, { date: null })).toBe(formatSave(full, { date: null }));
      }),
      { numRuns: 300, seed: 42 },
    );
    // The sequences did reach the refusals that depend on reach and loops.
    expect([...refusals].sort()).toEqual(['hook', 'loop']);
    expect(validationStats.incremental - before).toBeGreaterThan(1000);
  });

  // T's counts pass 63 either through incremental checks (jumps added one by one) or in a full validation (all
  // jumps added by one restore, a change too large to check incrementally).
  for (const via of ['one by one', 'in one restore'] as const)
    it(`counts more than 63 reached chains jumping to one chain (past the packed counts), jumps added ${via}`, () => {
      const quick = new NetfilterState();
      const full = new NetfilterState({ fullValidation: true });
      const lines = ['-t nat -N T'];
      for (let i = 0; i < 70; i++) lines.push(`-t nat -N P${i}`, `-t nat -A PREROUTING -j P${i}`);
      const run = (ls: string[]): string[] =>
        ls.map((line) => {
          const o = outcome(quick, line);
          expect(o, line).toBe(outcome(full, line));
          return o;
        });
      const outcomes = run(lines);
      const jumps = Array.from({ length: 70 }, (_, i) => `-A P${i} -j T`);
      if (via === 'one by one') outcomes.push(...run(jumps.map((j) => `-t nat ${j}`)));
      else {
        const doc = `*nat\n${jumps.join('\n')}\nCOMMIT\n`;
        for (const s of [quick, full]) restoreInto(s, doc, 'jumps', 1, { noflush: true });
      }
      // Still reached from PREROUTING through 62 chains: SNAT (POSTROUTING, INPUT) in T is refused; then through none.
      const rest: string[] = [];
      for (let i = 0; i < 8; i++) rest.push(`-t nat -D P${i} 1`);
      rest.push('-t nat -A T -j SNAT --to-source 10.0.0.9');
      for (let i = 8; i < 70; i++) rest.push(`-t nat -D P${i} 1`);
      rest.push('-t nat -A T -j SNAT --to-source 10.0.0.9', '-t nat -A INPUT -j T');
      const before = validationStats.incremental;
      outcomes.push(...run(rest));
      expect(outcomes.filter((o) => o !== 'ok')).toHaveLength(1);
      expect(formatSave(quick, { date: null })).toBe(formatSave(full, { date: null }));
      expect(validationStats.incremental - before).toBeGreaterThan(60);
    });
});
