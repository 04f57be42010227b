// Loading rules again reuses what an earlier load worked out: the line cache of iptables-restore (a line's parse by
// its text), copy-on-write transactions that write only the chains they changed, and what netfilter derives per
// chain (the traversal index, whether conntrack is needed). Every outcome must be the one a first load into fresh
// tables gives: tables, counters, chain order, errors and their positions.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IptablesError } from '../../src/iptables/errors.js';
import { iptablesRestore, iptablesSave, netfilterOf } from '../../src/iptables/index.js';
import { NfacctStore } from '../../src/iptables/matches/nfacct.js';
import { applyRestore, parseRestore } from '../../src/iptables/restore.js';
import { clearRuleLineCache } from '../../src/iptables/rule-cache.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { Kernel } from '../../src/netns/kernel.js';
import { fixture, fixtureText, ipt } from './helpers.js';
import { allMatch, makeCtx, makeSkb } from './packet.js';

interface RestoreCase {
  name: string;
  setup: string[];
  flags: string[];
  doc: string;
}

function fresh(): NetfilterState {
  const nfacct = new NfacctStore();
  nfacct.add('ct_state_invalid_dropped_pkts');
  return new NetfilterState({ nfacct });
}

/** The save output with counters, or the error with its place. */
function outcome(setup: readonly string[], doc: string, opts: { noflush?: boolean; counters?: boolean }): string {
  const s = fresh();
  for (const line of setup) ipt(s, line.replace(/^iptables /, ''));
  try {
    applyRestore(s, parseRestore(doc, 'doc', 1, opts));
  } catch (e) {
    if (!(e instanceof IptablesError)) throw e;
    return `error ${e.message} at ${JSON.stringify(e.pos)}\n${formatSave(s, { counters: true, date: null })}`;
  }
  return formatSave(s, { counters: true, date: null });
}

/** The same load with every line's parse found in the cache (the document was parsed once before). */
function coldAndWarm(setup: readonly string[], doc: string, opts: { noflush?: boolean; counters?: boolean }) {
  clearRuleLineCache();
  const cold = outcome(setup, doc, opts);
  clearRuleLineCache();
  try {
    parseRestore(doc, 'doc', 1, opts);
  } catch {
    // A document that does not parse leaves nothing to reuse but the lines before the error.
  }
  return { cold, warm: outcome(setup, doc, opts) };
}

describe('the restore line cache', () => {
  it('gives every real-iptables restore case the outcome of a first parse', () => {
    for (const c of fixture<RestoreCase[]>('restore.json')) {
      const opts = {
        noflush: c.flags.includes('--noflush') || c.flags.includes('-n'),
        counters: c.flags.includes('-c') || c.flags.includes('--counters'),
      };
      const { cold, warm } = coldAndWarm(c.setup, c.doc, opts);
      expect(warm, c.name).toBe(cold);
    }
  });

  it('gives a kube-proxy payload loaded twice the tables of one load', () => {
    const pre = fixtureText('kube-proxy-pre.txt')
      .split('\n')
      .filter((l) => l !== '');
    const doc = fixtureText('kube-proxy-restore.txt');
    const { cold, warm } = coldAndWarm(pre, doc, { noflush: true, counters: true });
    expect(warm).toBe(cold);
    expect(cold.split('\n').filter((l) => l.startsWith('[')).length).toBeGreaterThan(3000);
  });

  it('still refuses -o in PREROUTING and -i in POSTROUTING for a line cached from another chain', () => {
    clearRuleLineCache();
    const s = fresh();
    applyRestore(
      s,
      parseRestore('*nat\n:X - [0:0]\n:Y - [0:0]\n-A X -o eth0 -j ACCEPT\n-A Y -i eth0 -j ACCEPT\nCOMMIT\n', 'a'),
    );
    for (const [chain, line] of [
      ['PREROUTING', '-o eth0 -j ACCEPT'],
      ['POSTROUTING', '-i eth0 -j ACCEPT'],
    ] as const) {
      const doc = `*nat\n-A ${chain} ${line}\nCOMMIT\n`;
      const warm = outcome([], doc, {});
      clearRuleLineCache();
      expect(warm).toBe(outcome([], doc, {}));
      expect(warm).toContain(`Can't use ${line.slice(0, 2)} with ${chain}`);
    }
  });

  it('points a commit error at the target word of the line it came from, not of the line first parsed', () => {
    clearRuleLineCache();
    const dnat = '-j DNAT --to-destination 10.0.0.1';
    applyRestore(fresh(), parseRestore(`*nat\n:X - [0:0]\n-A X ${dnat}\nCOMMIT\n`, 'a'));
    // The same text after a longer chain name, on a later line, and now reached from POSTROUTING.
    const doc = `*nat\n:LONGER-NAME - [0:0]\n\n-A POSTROUTING -j LONGER-NAME\n-A LONGER-NAME ${dnat}\nCOMMIT\n`;
    const warm = outcome([], doc, {});
    expect(warm).toContain('DNAT target: used from hooks POSTROUTING');
    expect(warm).toContain('{"file":"doc","line":5,"col":19}');
    clearRuleLineCache();
    expect(outcome([], doc, {})).toBe(warm);
  });

  it('gives every rule its own nth counter, even rules of one cached line', () => {
    clearRuleLineCache();
    const s = fresh();
    const nth = '-m statistic --mode nth --every 2 --packet 0 -j ACCEPT';
    applyRestore(s, parseRestore(`*filter\n:A - [0:0]\n:B - [0:0]\n-A A ${nth}\n-A B ${nth}\nCOMMIT\n`, 'a'));
    const a = s.chain('filter', 'A')!.rules[0]!;
    const b = s.chain('filter', 'B')!.rules[0]!;
    const k = new Kernel({ seed: 1 });
    const ns = k.addNetns('n');
    const ctx = () => makeCtx(makeSkb({ src: '10.0.0.1', dst: '10.0.0.2' }), { ns });
    // Rule A sees two packets, rule B one: each counts its own.
    expect([allMatch(a, ctx()), allMatch(a, ctx()), allMatch(b, ctx())]).toEqual([true, false, true]);
  });
});

describe('copy-on-write transactions', () => {
  /** Chain operations of one restore block, applied to a model in which a transaction copies the whole Map. */
  const op = fc.oneof(
    fc.constantFrom('A', 'B', 'C', 'D').map((c) => ({ line: `:${c} - [0:0]`, chain: c, kind: 'declare' as const })),
    fc.constantFrom('A', 'B', 'C', 'D').map((c) => ({ line: `-X ${c}`, chain: c, kind: 'delete' as const })),
    fc.constantFrom('A', 'B', 'C', 'D').map((c) => ({ line: `-F ${c}`, chain: c, kind: 'flush' as const })),
    fc
      .tuple(fc.constantFrom('A', 'B', 'C', 'D'), fc.constantFrom('A', 'B', 'C', 'D'))
      .map(([c, d]) => ({ line: `-E ${c} ${d}`, chain: c, to: d, kind: 'rename' as const })),
  );

  it('leave the table in the order a copied Map would have, and nothing changed when refused', () => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 8 }), (blocks) => {
        const s = new NetfilterState();
        let model = [...s.table('filter').chains.keys()];
        for (const block of blocks) {
          const before = formatSave(s, { counters: true, date: null });
          const doc = `*filter\n${block.map((o) => o.line).join('\n')}\nCOMMIT\n`;
          let ok = true;
          try {
            applyRestore(s, parseRestore(doc, 'doc', 1, { noflush: true }));
          } catch (e) {
            if (!(e instanceof IptablesError)) throw e;
            ok = false;
          }
          if (!ok) {
            expect(formatSave(s, { counters: true, date: null })).toBe(before);
          } else {
            const m = new Map(model.map((n) => [n, n]));
            for (const o of block) {
              if (o.kind === 'declare' && !m.has(o.chain)) m.set(o.chain, o.chain);
              if (o.kind === 'delete') m.delete(o.chain);
              if (o.kind === 'rename') {
                const renamed = [...m.keys()].map((n) => (n === o.chain ? o.to : n));
                m.clear();
                for (const n of renamed) m.set(n, n);
              }
            }
            model = [...m.keys()];
          }
          expect([...s.table('filter').chains.keys()]).toEqual(model);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('keep the counters of chains a --noflush restore leaves alone and reset those it declares', () => {
    const s = new NetfilterState();
    applyRestore(
      s,
      parseRestore('*filter\n:A - [0:0]\n:B - [0:0]\n[5:50] -A A -j ACCEPT\n[7:70] -A B -j ACCEPT\nCOMMIT\n', 'a', 1, {
        counters: true,
      }),
    );
    applyRestore(
      s,
      parseRestore('*filter\n:B - [0:0]\n-A B -j ACCEPT\nCOMMIT\n', 'b', 1, { noflush: true, counters: true }),
    );
    const saved = formatSave(s, { counters: true, date: null });
    expect(saved).toContain('[5:50] -A A -j ACCEPT');
    expect(saved).toContain('[0:0] -A B -j ACCEPT');
  });

  it('refuse to commit a transaction begun before another commit of its table', () => {
    const s = new NetfilterState();
    const late = s.begin('filter');
    ipt(s, '-N A');
    late.newChain('B');
    expect(() => s.commit(late)).toThrow('began before the last commit');
    expect([...s.table('filter').chains.keys()]).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'A']);
  });
});

describe('netfilter after a partial reload', () => {
  const k = new Kernel({ seed: 2 });
  const ns = k.addNetns('n');
  const nf = netfilterOf(ns);

  it('drops conntrack when the last rule needing it is replaced, and takes it back', () => {
    iptablesRestore(
      ns,
      '*nat\n:X - [0:0]\n-A PREROUTING -j X\n-A X -p tcp -j DNAT --to-destination 10.0.0.9\nCOMMIT\n',
    );
    expect(nf.conntrack).not.toBeNull();
    iptablesRestore(ns, '*nat\n:X - [0:0]\n-A X -j RETURN\nCOMMIT\n', { noflush: true });
    expect(nf.conntrack).toBeNull();
    iptablesRestore(ns, '*nat\n:X - [0:0]\n-A X -p tcp -j DNAT --to-destination 10.0.0.9\nCOMMIT\n', { noflush: true });
    expect(nf.conntrack).not.toBeNull();
  });

  it('keeps conntrack while a chain the reload did not touch still needs it', () => {
    const ns3 = k.addNetns('two-dnat');
    const nf3 = netfilterOf(ns3);
    const dnat = '-p tcp -j DNAT --to-destination 10.0.0.9';
    iptablesRestore(ns3, `*nat\n:X - [0:0]\n:Y - [0:0]\n-A PREROUTING -j X\n-A X ${dnat}\n-A Y ${dnat}\nCOMMIT\n`);
    iptablesRestore(ns3, '*nat\n:X - [0:0]\n-A X -j RETURN\nCOMMIT\n', { noflush: true });
    expect(nf3.conntrack).not.toBeNull();
    iptablesRestore(ns3, '*nat\n:Y - [0:0]\n-A Y -j RETURN\nCOMMIT\n', { noflush: true });
    expect(nf3.conntrack).toBeNull();
  });

  it('walks the rules a reload wrote, not the ones it replaced', () => {
    const ns2 = k.addNetns('filter-only');
    const dsts = Array.from({ length: 100 }, (_, i) => `-A S -d 10.1.0.${i}/32 -p tcp --dport 80 -j T${i % 2}`);
    iptablesRestore(
      ns2,
      `*filter\n:S - [0:0]\n:T0 - [0:0]\n:T1 - [0:0]\n-A INPUT -j S\n${dsts.join('\n')}\n-A T0 -j DROP\n-A T1 -j ACCEPT\nCOMMIT\n`,
    );
    const verdict = (dst: string) =>
      ns2.hooks.run('INPUT', makeSkb({ src: '10.0.0.1', dst, dport: 80 }), {
        ns: ns2,
        hook: 'INPUT',
        inDev: ns2.lo,
        outDev: null,
        bridged: false,
      });
    expect(verdict('10.1.0.3')).toBe('accept');
    expect(verdict('10.1.0.4')).toBe('drop');
    // Rewrite S only: the index built for the old S must not be used for the new one.
    iptablesRestore(ns2, '*filter\n:S - [0:0]\n-A S -d 10.1.0.3/32 -p tcp --dport 80 -j T0\nCOMMIT\n', {
      noflush: true,
    });
    expect(verdict('10.1.0.3')).toBe('drop');
    expect(verdict('10.1.0.4')).toBe('accept');
    const saved = iptablesSave(ns2, { table: 'filter', date: null });
    expect(saved).toContain('-A S -d 10.1.0.3/32 -p tcp -m tcp --dport 80 -j T0');
    expect(saved.match(/^-A S /gm)).toHaveLength(1);
  });
});
