// Puts real Linux's and the emulator's netfilter state in one comparable form. `iptables-save -c` is parsed into
// tables, chain headers (policy and policy counters) and rules (text and counters); tables are ordered by name,
// because iptables-legacy prints them newest-registered first and iptables-nft in its own order, while chains and
// rules keep their order. `conntrack -L` lines lose what differs by design between two runs: the remaining
// timeout, ephemeral ports (ip_local_port_range, 32768–60999 by default) and ICMP echo ids; then they are sorted,
// since the kernel lists its hash table in bucket order.

import type { NfOutcome, RandomGroup } from './types.js';

export interface SavedChain {
  name: string;
  /** ACCEPT / DROP for built-in chains, `-` for user chains. */
  policy: string;
  packets: number;
  bytes: number;
}

export interface SavedRule {
  chain: string;
  /** The rule as iptables-save prints it after the counters: `-A INPUT -p icmp -j ACCEPT`. */
  text: string;
  packets: number;
  bytes: number;
}

export interface SavedTable {
  name: string;
  chains: SavedChain[];
  rules: SavedRule[];
}

const CHAIN_LINE = /^:(\S+) (\S+) \[(\d+):(\d+)\]$/;
const RULE_LINE = /^\[(\d+):(\d+)\] (-A (\S+) .*|-A (\S+))$/;

/** Parses `iptables-save -c` output; throws on a line it does not understand. */
export function parseIptablesSave(text: string): SavedTable[] {
  const tables: SavedTable[] = [];
  let cur: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: [], rules: [] };
      tables.push(cur);
      continue;
    }
    if (!cur) throw new Error(`iptables-save: '${line}' outside a table`);
    if (line === 'COMMIT') {
      cur = undefined;
      continue;
    }
    const c = CHAIN_LINE.exec(line);
    if (c) {
      cur.chains.push({ name: c[1]!, policy: c[2]!, packets: Number(c[3]), bytes: Number(c[4]) });
      continue;
    }
    const r = RULE_LINE.exec(line);
    if (r) {
      cur.rules.push({ chain: r[4] ?? r[5]!, text: r[3]!, packets: Number(r[1]), bytes: Number(r[2]) });
      continue;
    }
    throw new Error(`iptables-save: cannot parse '${line}' (was it saved with -c?)`);
  }
  return tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One line per chain header and rule, `table :CHAIN POLICY [p:b]` and `table [p:b] -A …`, ready for a readable
 * diff. Members of a random group show `[*:*]`, and the group adds a line with the sums of its counters.
 */
export function counterLines(text: string, groups: readonly RandomGroup[] = []): string[] {
  const out: string[] = [];
  for (const t of parseIptablesSave(text)) {
    for (const c of t.chains) out.push(`${t.name} :${c.name} ${c.policy} [${c.packets}:${c.bytes}]`);
    const pos = new Map<string, number>();
    const sums = new Map<RandomGroup, { packets: number; bytes: number }>();
    for (const r of t.rules) {
      const n = (pos.get(r.chain) ?? 0) + 1;
      pos.set(r.chain, n);
      const g = groups.find((x) => x.table === t.name && x.chain === r.chain && x.rules.includes(n));
      if (!g) {
        out.push(`${t.name} [${r.packets}:${r.bytes}] ${r.text}`);
        continue;
      }
      const s = sums.get(g) ?? { packets: 0, bytes: 0 };
      sums.set(g, { packets: s.packets + r.packets, bytes: s.bytes + r.bytes });
      out.push(`${t.name} [*:*] ${r.text}`);
    }
    for (const [g, s] of sums)
      out.push(`${t.name} sum of ${g.chain} rules ${g.rules.join(',')}: [${s.packets}:${s.bytes}]`);
  }
  return out;
}

const EPHEMERAL_MIN = 32768;
const EPHEMERAL_MAX = 60999;

/** `conntrack -L` lines without timeouts, ephemeral ports and echo ids, sorted. */
export function normaliseConntrack(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('conntrack v')) continue;
    const words = line.split(/\s+/);
    // `proto-name proto-number timeout [tcp-state] key=value … [FLAGS] …`
    if (/^\d+$/.test(words[2] ?? '')) words[2] = '*';
    const norm = words.map((w) => {
      const m = /^(sport|dport)=(\d+)$/.exec(w);
      if (m && Number(m[2]) >= EPHEMERAL_MIN && Number(m[2]) <= EPHEMERAL_MAX) return `${m[1]}=*`;
      if (/^id=\d+$/.test(w)) return 'id=*';
      return w;
    });
    out.push(norm.join(' '));
  }
  return out.sort();
}

/** ICMP names differ in one spelling between kernel-lab (iputils' words) and the emulator. */
export function icmpName(n: string | undefined): string | undefined {
  return n === 'proto-unreachable' ? 'protocol-unreachable' : n;
}

/** The outcome fields both sides report, in one spelling; `connect` steps also compare the payload. */
export function outcomeView(
  o: Partial<NfOutcome> & { result: string },
  kind: 'ping' | 'connect',
): Record<string, string | number | undefined> {
  const v: Record<string, string | number | undefined> = {
    result: o.result,
    replyFrom: o.replyFrom,
    replyTtl: o.replyTtl,
    icmp: icmpName(o.icmp),
  };
  if (kind === 'connect') v.replyPayload = o.result === 'reachable' ? (o.replyPayload ?? '') : undefined;
  return v;
}
