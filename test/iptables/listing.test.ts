import { describe, expect, it } from 'vitest';
import { argsOf } from '../../src/iptables/args.js';
import { applyIptablesCommand, parseIptablesArgs } from '../../src/iptables/command.js';
import { formatNum } from '../../src/iptables/list.js';
import { applyRestore, parseRestore } from '../../src/iptables/restore.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { fixture } from './helpers.js';

interface Listing {
  restore: string;
  outputs: { table: string; args: string[]; rc: number; stdout: string; stderr: string }[];
  save: string;
  saveCounters: string;
}

const listing = fixture<Listing>('listing.json');

function loaded(): NetfilterState {
  const s = new NetfilterState();
  applyRestore(s, parseRestore(listing.restore, 'listing', 1, { counters: true }));
  return s;
}

describe('iptables -L / -S against the real output', () => {
  for (const o of listing.outputs) {
    it(`iptables -t ${o.table} ${o.args.join(' ')}`, () => {
      const s = loaded();
      const out = applyIptablesCommand(s, parseIptablesArgs(argsOf(['-t', o.table, ...o.args])));
      expect(out).toBe(o.stdout);
    });
  }

  it('iptables-save and iptables-save -c', () => {
    const s = loaded();
    const date = /on (.*)$/m.exec(listing.save)![1]!;
    expect(formatSave(s, { date })).toBe(listing.save);
    expect(formatSave(s, { date, counters: true })).toBe(listing.saveCounters);
  });

  it('-L -Z lists, then zeroes', () => {
    const s = loaded();
    const out = applyIptablesCommand(s, parseIptablesArgs(argsOf(['-L', 'INPUT', '-n', '-v', '-x', '-Z'])));
    expect(out).toContain(' 9999999 1234567890 ACCEPT');
    expect(formatSave(s, { counters: true, table: 'filter', date: null })).toContain('[0:0] -A INPUT -p tcp');
    expect(formatSave(s, { counters: true, table: 'filter', date: null })).toContain(':INPUT DROP [0:0]');
    expect(formatSave(s, { counters: true, table: 'filter', date: null })).toContain('[7:8] -A FORWARD');
  });
});

describe('counter columns (xtables_print_num)', () => {
  it('switches to K, M, G and T with rounding', () => {
    expect(formatNum(99999, false)).toBe('99999 ');
    expect(formatNum(100000, false)).toBe(' 100K ');
    expect(formatNum(9999499, false)).toBe('9999K ');
    expect(formatNum(9999500, false)).toBe('  10M ');
    expect(formatNum(12345678901, false)).toBe('  12G ');
    expect(formatNum(98765432109876, false)).toBe('  99T ');
    expect(formatNum(123, true)).toBe('     123 ');
    expect(formatNum(123456, false, false)).toBe('123K ');
  });
});
