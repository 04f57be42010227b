import { describe, expect, it } from 'vitest';
import { IptablesError } from '../../src/iptables/errors.js';
import { LazyRule } from '../../src/iptables/lazy-rule.js';
import { applyRestore, parseRestore, restoreInto } from '../../src/iptables/restore.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { fixture, fixtureText, ipt } from './helpers.js';

const kubeDoc = fixtureText('kube-proxy-restore.txt');

/** The line cache keeps no line (as for chains a loader writes for the first time): rules are kept as text. */
const NEW_CHAINS = (): boolean => false;

function lazyRules(state: NetfilterState): LazyRule[] {
  const out: LazyRule[] = [];
  for (const t of ['filter', 'nat'] as const)
    for (const c of state.table(t).chains.values()) for (const r of c.rules) if (r instanceof LazyRule) out.push(r);
  return out;
}

describe('rules kept as text until needed', () => {
  it('loads kube-proxy rules as text, checks them without building them, and saves them as an eager load does', () => {
    const lazy = new NetfilterState();
    restoreInto(lazy, kubeDoc, 'payload', 1, { noflush: true }, NEW_CHAINS);
    const rules = lazyRules(lazy);
    expect(rules.length).toBeGreaterThan(20);
    // Loading and the commit's checks built none of them.
    expect(rules.filter((r) => r.built)).toEqual([]);
    const eager = new NetfilterState();
    applyRestore(eager, parseRestore(kubeDoc, 'payload', 1, { noflush: true }));
    expect(formatSave(lazy, { date: null })).toBe(formatSave(eager, { date: null }));
    // Saving needed every rule's text, so every one is built now.
    expect(rules.every((r) => r.built)).toBe(true);
  });

  it('keeps a document its rules kept as text make up most of, and copies their text out of any other', () => {
    // Mostly rules kept as text: they refer to the document itself.
    const big = new NetfilterState();
    restoreInto(big, kubeDoc, 'payload', 1, { noflush: true }, NEW_CHAINS);
    const kept = lazyRules(big);
    expect(kept.every((r) => r._doc === kubeDoc)).toBe(true);
    // The same rules among a long comment: each has a text of its own, and the jump names are not cut from the
    // document either.
    const padded = `${kubeDoc}${`# ${'x'.repeat(200)}\n`.repeat(kubeDoc.length / 100)}`;
    const small = new NetfilterState();
    restoreInto(small, padded, 'payload', 1, { noflush: true }, NEW_CHAINS);
    const copied = lazyRules(small);
    expect(copied.length).toBe(kept.length);
    expect(copied.every((r) => r._doc !== padded && r._from === 0 && r._to === r._doc.length)).toBe(true);
    expect(formatSave(small, { date: null })).toBe(formatSave(big, { date: null }));
  });

  it('refuses a jump to a missing chain from the kept facts, at the rule', () => {
    const s = new NetfilterState();
    const doc = '*nat\n:KUBE-SVC-A - [0:0]\n-A KUBE-SVC-A -m comment --comment x -j KUBE-SEP-NOPE\nCOMMIT\n';
    let err: unknown;
    try {
      restoreInto(s, doc, 'p', 1, { noflush: true }, NEW_CHAINS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IptablesError);
    expect((err as IptablesError).message).toBe(
      "iptables-restore: line 3 failed: Chain 'KUBE-SEP-NOPE' does not exist",
    );
    expect(s.table('nat').chains.has('KUBE-SVC-A')).toBe(false);
  });

  it('refuses a target in a hook it does not allow, without building the rule first', () => {
    const s = new NetfilterState();
    const doc = '*nat\n:X - [0:0]\n-A X -j DNAT --to-destination 10.0.0.1\n-A POSTROUTING -j X\nCOMMIT\n';
    expect(() => restoreInto(s, doc, 'p', 1, { noflush: true }, NEW_CHAINS)).toThrow(
      'iptables-restore: line 3 failed: Invalid argument (ip_tables: DNAT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT; rule 1 in chain X)',
    );
  });

  it('counts references of rules not built yet (-X refuses a referenced chain)', () => {
    const s = new NetfilterState();
    restoreInto(
      s,
      '*filter\n:A - [0:0]\n:B - [0:0]\n-A A -m comment --comment x -j B\nCOMMIT\n',
      'p',
      1,
      {},
      NEW_CHAINS,
    );
    expect(lazyRules(s)).toHaveLength(1);
    expect(() => ipt(s, '-X B')).toThrow('Too many links');
    expect(lazyRules(s)[0]!.built).toBe(false);
    ipt(s, '-F A');
    ipt(s, '-X B');
    expect(s.table('filter').chains.has('B')).toBe(false);
  });

  it('keeps each document out of memory: the rule holds a copy of its own text only', () => {
    const s = new NetfilterState();
    const long = `${'#'.repeat(100_000)}\n`;
    restoreInto(s, `${long}*filter\n:A - [0:0]\n-A A -s 10.0.0.1/32 -j ACCEPT\nCOMMIT\n`, 'p', 1, {}, NEW_CHAINS);
    const r = lazyRules(s)[0]!;
    expect(r.pos).toEqual({ file: 'p', line: 4, col: 1 });
    expect(r.targetPos).toEqual({ file: 'p', line: 4, col: 24 });
    expect(r.text).toBe('-s 10.0.0.1/32 -j ACCEPT');
  });

  it('gives the same result and state as parse-then-apply for every recorded restore case', () => {
    const cases = fixture<{ name: string; setup: string[]; flags: string[]; doc: string }[]>('restore.json');
    for (const c of cases) {
      const a = new NetfilterState();
      const b = new NetfilterState();
      for (const st of [a, b]) for (const line of c.setup) ipt(st, line.replace(/^iptables /, ''));
      const noflush = c.flags.includes('--noflush') || c.flags.includes('-n');
      const counters = c.flags.includes('-c') || c.flags.includes('--counters');
      const run = (f: () => void): string => {
        try {
          f();
          return 'ok';
        } catch (e) {
          if (e instanceof IptablesError) return e.message;
          throw e;
        }
      };
      const ra = run(() => applyRestore(a, parseRestore(c.doc, 'rules.v4', 1, { noflush, counters })));
      const rb = run(() => restoreInto(b, c.doc, 'rules.v4', 1, { noflush, counters }));
      expect(rb, c.name).toBe(ra);
      expect(formatSave(b, { counters: true, date: null }), c.name).toBe(formatSave(a, { counters: true, date: null }));
    }
  });
});
