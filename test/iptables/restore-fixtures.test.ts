import { describe, expect, it } from 'vitest';
import { IptablesError } from '../../src/iptables/errors.js';
import { applyRestore, parseRestore } from '../../src/iptables/restore.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { fixture, ipt } from './helpers.js';

interface RestoreCase {
  name: string;
  setup: string[];
  flags: string[];
  doc: string;
  rc: number;
  stderr: string;
  after: string;
}

/** Cases where podwire differs on purpose, with the reason. */
const DIFFERS: Record<string, string> = {
  // iptables-restore commits the filter block before it reads the broken nat block; podwire parses the whole
  // document first, so nothing is applied.
  'syntax error in the second table': 'whole document parsed before anything is applied',
};

const cases = fixture<RestoreCase[]>('restore.json');

describe('iptables-restore against real iptables-restore 1.8.9 (nf_tables)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const state = new NetfilterState();
      for (const s of c.setup) ipt(state, s.replace(/^iptables /, ''));
      const before = formatSave(state, { counters: true, date: null });
      const noflush = c.flags.includes('--noflush') || c.flags.includes('-n');
      const counters = c.flags.includes('-c') || c.flags.includes('--counters');
      let error: unknown = null;
      try {
        applyRestore(state, parseRestore(c.doc, 'rules.v4', 1, { noflush, counters }));
      } catch (e) {
        error = e;
      }
      if (c.rc === 0) {
        if (error) throw error;
      } else {
        expect(error, c.stderr).toBeInstanceOf(IptablesError);
      }
      const after = formatSave(state, { counters: true, date: null });
      if (DIFFERS[c.name] !== undefined) expect(after).toBe(before);
      else expect(after).toBe(c.after);
    });
  }
});

describe('restore errors name the line', () => {
  const run = (doc: string, opts = {}): IptablesError => {
    try {
      applyRestore(new NetfilterState(), parseRestore(doc, 'rules.v4', 10, opts));
    } catch (e) {
      if (e instanceof IptablesError) return e;
      throw e;
    }
    throw new Error('no error');
  };

  it('reports an unknown option at its word', () => {
    const e = run('*filter\n-A INPUT -p tcp --bogus 1 -j ACCEPT\nCOMMIT\n');
    expect(e.message).toBe('unknown option "--bogus"');
    expect(e.pos).toEqual({ file: 'rules.v4', line: 11, col: 17 });
  });

  it('reports a missing jump target as iptables-restore does, at the -j word', () => {
    const e = run('*filter\n:A - [0:0]\n-A INPUT -j B\nCOMMIT\n');
    expect(e.message).toBe("iptables-restore: line 12 failed: Chain 'B' does not exist");
    expect(e.pos).toEqual({ file: 'rules.v4', line: 12, col: 13 });
  });

  it('reports a jump loop with its path', () => {
    const e = run('*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -g A\nCOMMIT\n');
    expect(e.message).toBe(
      'iptables-restore: line 15 failed: Too many levels of symbolic links (jump loop A -> B -> A)',
    );
    expect(e.pos?.line).toBe(15);
  });

  it('reports a target used from the wrong hook', () => {
    const e = run('*nat\n:X - [0:0]\n-A POSTROUTING -j X\n-A X -j DNAT --to-destination 10.0.0.1\nCOMMIT\n');
    expect(e.message).toContain('iptables-restore: line 13 failed: Invalid argument');
    expect(e.message).toContain('DNAT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT');
  });

  it('wants COMMIT', () => {
    const e = run('*filter\n-A INPUT -j ACCEPT\n');
    expect(e.message).toBe('iptables-restore: COMMIT expected at line 12');
  });

  it('refuses -t inside a block', () => {
    const e = run('*filter\n-t nat -A POSTROUTING -j MASQUERADE\nCOMMIT\n');
    expect(e.message).toBe('The -t option (seen in line 11) cannot be used in iptables-restore.');
    expect(e.pos).toEqual({ file: 'rules.v4', line: 11, col: 1 });
  });

  it('keeps earlier COMMITs when a later block is refused', () => {
    const state = new NetfilterState();
    const plan = parseRestore('*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A INPUT -j NOPE\nCOMMIT\n', 'f', 1);
    expect(() => applyRestore(state, plan)).toThrow(IptablesError);
    expect(formatSave(state, { date: null })).toContain('-A INPUT -j ACCEPT');
    expect(state.existingTables()).toEqual(['filter']);
  });

  it('changes nothing in a block that fails half way', () => {
    const state = new NetfilterState();
    ipt(state, '-A INPUT -j DROP');
    const gen = state.generation;
    const plan = parseRestore('*filter\n-A INPUT -j ACCEPT\n-D INPUT -s 9.9.9.9 -j ACCEPT\nCOMMIT\n', 'f', 1, {
      noflush: true,
    });
    expect(() => applyRestore(state, plan)).toThrow(
      'iptables-restore: line 3 failed: Bad rule (does a matching rule exist in that chain?).',
    );
    expect(formatSave(state, { date: null })).toBe(
      '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n',
    );
    expect(state.generation).toBe(gen);
  });
});
