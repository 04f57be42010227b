// `iptables -L` and `iptables -S` output, column for column as iptables (nf_tables) prints it: the chain header
// with policy and counters or the reference count, the column header, and per rule the line number, counters
// (5-wide with K/M/G/T suffixes, or exact with -x), target, protocol, options (`--`, `-f`, `!f`), interfaces with
// -v, source, destination, `[goto] `, then each match's and the target's listing text. With -n everything is
// numeric; without it protocol and port names are used, 0.0.0.0/0 is `anywhere` and a few well-known addresses get
// their names (127.0.0.1 localhost, 127.0.0.0 loopback), other addresses stay numeric (no DNS).

import { protoName } from './protocols.js';
import { ruleText } from './rule-spec.js';
import type { NetfilterState } from './state.js';
import type { Chain, IfaceSpec, Rule, TableName } from './types.js';
import { ifaceText, ipStr, maskSuffix } from './values.js';

export interface ListOptions {
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
}

const HOSTS = new Map<number, string>([[0x7f000001, 'localhost']]);
const NETWORKS = new Map<number, string>([
  [0x7f000000, 'loopback'],
  [0xa9fe0000, 'link-local'],
]);

function padEnd(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padStart(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** xtables_print_num: `%8llu ` with -x, else 5 wide with K, M, G, T (each step divides by 1000, rounding). */
export function formatNum(n: number, exact: boolean, table = true): string {
  if (exact) return table ? `${padStart(String(n), 8)} ` : `${n} `;
  if (n <= 99999) return table ? `${padStart(String(n), 5)} ` : `${n} `;
  let v = n;
  for (const suffix of ['K', 'M', 'G']) {
    v = Math.floor((v + 500) / 1000);
    if (v <= 9999) return table ? `${padStart(String(v), 4)}${suffix} ` : `${v}${suffix} `;
  }
  v = Math.floor((v + 500) / 1000);
  return table ? `${padStart(String(v), 4)}T ` : `${v}T `;
}

function addrText(addr: number, mask: number, numeric: boolean): string {
  if (mask === 0 && !numeric) return 'anywhere';
  if (numeric) return `${ipStr(addr)}${maskSuffix(mask)}`;
  const name = HOSTS.get(addr) ?? NETWORKS.get(addr) ?? ipStr(addr);
  return `${name}${maskSuffix(mask)}`;
}

function ifaceCol(i: IfaceSpec | null, numeric: boolean): string {
  if (i === null) return numeric ? '*' : 'any';
  return `${i.inv ? '!' : ''}${ifaceText(i)}`;
}

function header(o: ListOptions): string {
  let s = '';
  if (o.lineNumbers) s += `${padEnd('num', 4)} `;
  if (o.verbose)
    s += o.exact
      ? `${padStart('pkts', 8)} ${padStart('bytes', 10)} `
      : `${padStart('pkts', 5)} ${padStart('bytes', 5)} `;
  s += `${padEnd('target', 9)} `;
  s += ' prot opt';
  if (o.verbose) s += ` ${padEnd('in', 6)} ${padEnd('out', 6)} `;
  s += ` ${padEnd('source', 19)} `;
  s += ` ${padEnd('destination', 19)} `;
  return s;
}

/** One rule line of `iptables -L`. */
export function formatListRule(r: Rule, num: number, o: ListOptions): string {
  let s = '';
  if (o.lineNumbers) s += `${padEnd(String(num), 4)} `;
  if (o.verbose) s += formatNum(r.counters.packets, o.exact) + formatNum(r.counters.bytes, o.exact);
  const t = r.target;
  s += `${padEnd(t ? (t.listName ?? t.name) : '', 9)} `;
  const p = r.proto;
  s += p?.inv ? '!' : ' ';
  const num0 = p?.num ?? 0;
  const pname = o.numeric ? String(num0) : num0 === 0 ? 'all' : (protoName(num0) ?? String(num0));
  s += `${padEnd(pname, 4)} `;
  s += `${r.fragment?.inv ? '!' : '-'}${r.fragment ? 'f' : '-'} `;
  if (o.verbose) s += ` ${padEnd(ifaceCol(r.inIface, o.numeric), 6)} ${padEnd(ifaceCol(r.outIface, o.numeric), 6)} `;
  s += r.src?.inv ? '!' : ' ';
  s += `${padEnd(addrText(r.src?.addr ?? 0, r.src?.mask ?? 0, o.numeric), 19)} `;
  s += r.dst?.inv ? '!' : ' ';
  s += `${padEnd(addrText(r.dst?.addr ?? 0, r.dst?.mask ?? 0, o.numeric), 19)} `;
  if (t?.goto) s += '[goto] ';
  for (const m of r.matches) {
    const text = m.print?.(o.numeric) ?? '';
    if (text !== '') s += ` ${text}`;
  }
  const tt = t?.print?.(o.numeric) ?? '';
  if (tt !== '') s += ` ${tt}`;
  return s;
}

function chainHeader(state: NetfilterState, table: TableName, c: Chain, o: ListOptions): string {
  if (c.policy === null) return `Chain ${c.name} (${state.references(table, c.name)} references)`;
  if (!o.verbose) return `Chain ${c.name} (policy ${c.policy})`;
  return `Chain ${c.name} (policy ${c.policy} ${formatNum(c.counters.packets, o.exact, false)}packets, ${formatNum(c.counters.bytes, o.exact, false)}bytes)`;
}

/** `iptables -t TABLE -L [CHAIN [N]]` with the given display options. */
export function formatList(
  state: NetfilterState,
  table: TableName,
  o: ListOptions & { chain?: string; rulenum?: number },
): string {
  const chains = o.chain !== undefined ? [state.chain(table, o.chain)!] : state.chains(table);
  if (o.rulenum !== undefined) {
    const r = chains[0]?.rules[o.rulenum - 1];
    return r ? `${formatListRule(r, o.rulenum, o)}\n` : '';
  }
  const blocks = chains.map((c) => {
    const lines = [chainHeader(state, table, c, o), header(o)];
    c.rules.forEach((r, i) => {
      lines.push(formatListRule(r, i + 1, o));
    });
    return `${lines.join('\n')}\n`;
  });
  return blocks.join('\n');
}

/** `iptables -t TABLE -S [CHAIN [N]]` (`-v` adds `-c PKTS BYTES`). */
export function formatRulesS(
  state: NetfilterState,
  table: TableName,
  o: { verbose: boolean; chain?: string; rulenum?: number },
): string {
  const chains = o.chain !== undefined ? [state.chain(table, o.chain)!] : state.chains(table);
  const rule = (c: Chain, r: Rule): string => `-A ${c.name}${ruleTextWithSpace(r, o.verbose)}\n`;
  if (o.rulenum !== undefined) {
    const c = chains[0]!;
    const r = c.rules[o.rulenum - 1];
    return r ? rule(c, r) : '';
  }
  let out = '';
  for (const c of chains) {
    if (c.policy !== null) {
      out += `-P ${c.name} ${c.policy}${o.verbose ? ` -c ${c.counters.packets} ${c.counters.bytes}` : ''}\n`;
    } else out += `-N ${c.name}\n`;
  }
  for (const c of chains) for (const r of c.rules) out += rule(c, r);
  return out;
}

function ruleTextWithSpace(r: Rule, counters: boolean): string {
  const t = counters ? ruleText(r, true) : r.text;
  return t === '' ? '' : ` ${t}`;
}
