import { describe, expect, it } from 'vitest';
import { IptablesError } from '../../src/iptables/errors.js';
import { formatList, formatRulesS } from '../../src/iptables/list.js';
import { NfacctStore } from '../../src/iptables/matches/nfacct.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import type { TableName } from '../../src/iptables/types.js';
import { fixture, ipt } from './helpers.js';

interface RuleCase {
  setup: string[];
  cmd: string;
  rc: number;
  stderr: string;
  table: TableName;
  save: string;
  chain?: string;
  listV?: string;
  listN?: string;
  listKMG?: string;
  rulesS?: string;
}

/** Where podwire refuses on purpose what iptables (nf_tables) accepts. */
const REFUSED: Record<string, string> = {
  '-A INPUT -j TRACE': 'TRACE is a raw-table target (xt_TRACE); nf_tables also allows it elsewhere',
  '-t raw -A OUTPUT -j CT --zone 1': 'CT options other than --notrack are not modelled',
  '-t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu': 'TCPMSS is not modelled',
};

const cases = fixture<RuleCase[]>('rules.json');

function setupState(c: RuleCase): NetfilterState {
  const nfacct = new NfacctStore();
  const state = new NetfilterState({ nfacct });
  for (const s of c.setup) {
    if (s.startsWith('nfacct ')) nfacct.add(s.slice(7));
    else ipt(state, s);
  }
  return state;
}

describe('rule cases against real iptables 1.8.9 (nf_tables)', () => {
  for (const c of cases) {
    it(`${c.setup.length ? `${c.setup.join(' ; ')} ; ` : ''}iptables ${c.cmd}`, () => {
      const state = setupState(c);
      let error: unknown = null;
      try {
        ipt(state, c.cmd);
      } catch (e) {
        error = e;
      }
      if (c.rc !== 0 || REFUSED[c.cmd] !== undefined) {
        expect(error, `expected a refusal like: ${c.stderr}`).toBeInstanceOf(IptablesError);
      } else {
        if (error) throw error;
      }
      if (REFUSED[c.cmd] !== undefined) return;
      expect(formatSave(state, { table: c.table, date: null })).toBe(c.save);
      if (c.chain !== undefined && state.chain(c.table, c.chain) !== undefined) {
        const list = (o: { numeric: boolean; verbose: boolean; exact: boolean; lineNumbers: boolean }): string =>
          formatList(state, c.table, { ...o, chain: c.chain! });
        expect(list({ numeric: true, verbose: true, exact: true, lineNumbers: true })).toBe(c.listV);
        expect(list({ numeric: true, verbose: false, exact: false, lineNumbers: false })).toBe(c.listN);
        expect(list({ numeric: true, verbose: true, exact: false, lineNumbers: false })).toBe(c.listKMG);
        expect(formatRulesS(state, c.table, { verbose: false, chain: c.chain })).toBe(c.rulesS);
      }
    });
  }
});
