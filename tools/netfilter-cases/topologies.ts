// The few topologies the netfilter cases share, as setup lines in the scenario dialect, plus a builder for
// `iptables-restore` input that writes the built-in chain headers of each table (policy ACCEPT unless given).
//
//   routed: c (10.0.1.2) — eth-c [r, ip_forward=1] eth-s — s (10.0.2.2); both ends route through r.
//   pair:   c (10.0.0.1) — h (10.0.0.2), one veth; h is "a host with a local server".
//   bridge: pods pa (10.244.1.2) and pb (10.244.1.3) on br0 in namespace `node` (no address on the bridge, so it
//           sends no IGMP of its own), with net.bridge.bridge-nf-call-iptables set explicitly.

export interface RoutedOptions {
  /** s routes back through r; without it only NAT at r makes replies possible. Default true. */
  serverDefaultRoute?: boolean;
  /** Addresses r adds to eth-s before 10.0.2.1/24 (they become the primary ones). */
  routerOutFirst?: string[];
}

export function routed(opts: RoutedOptions = {}): string[] {
  return [
    'ip netns add c',
    'ip netns add r',
    'ip netns add s',
    'ip link add eth0 netns c type veth peer name eth-c netns r',
    'ip link add eth0 netns s type veth peer name eth-s netns r',
    'ip -n c addr add 10.0.1.2/24 dev eth0',
    'ip -n r addr add 10.0.1.1/24 dev eth-c',
    ...(opts.routerOutFirst ?? []).map((a) => `ip -n r addr add ${a} dev eth-s`),
    'ip -n r addr add 10.0.2.1/24 dev eth-s',
    'ip -n s addr add 10.0.2.2/24 dev eth0',
    'ip -n c link set lo up',
    'ip -n c link set eth0 up',
    'ip -n r link set lo up',
    'ip -n r link set eth-c up',
    'ip -n r link set eth-s up',
    'ip -n s link set lo up',
    'ip -n s link set eth0 up',
    'ip -n c route add default via 10.0.1.1',
    ...(opts.serverDefaultRoute === false ? [] : ['ip -n s route add default via 10.0.2.1']),
    'ip netns exec r sysctl -w net.ipv4.ip_forward=1',
  ];
}

export function pair(opts: { clientExtra?: string[] } = {}): string[] {
  return [
    'ip netns add c',
    'ip netns add h',
    'ip link add eth0 netns c type veth peer name eth0 netns h',
    'ip -n c addr add 10.0.0.1/24 dev eth0',
    ...(opts.clientExtra ?? []).map((a) => `ip -n c addr add ${a} dev eth0`),
    'ip -n h addr add 10.0.0.2/24 dev eth0',
    'ip -n c link set lo up',
    'ip -n c link set eth0 up',
    'ip -n h link set lo up',
    'ip -n h link set eth0 up',
  ];
}

export function bridge(callIptables: 0 | 1): string[] {
  return [
    'ip netns add node',
    'ip netns add pa',
    'ip netns add pb',
    'ip -n node link add br0 type bridge',
    'ip link add veth-a netns node type veth peer name eth0 netns pa',
    'ip link add veth-b netns node type veth peer name eth0 netns pb',
    'ip -n node link set veth-a master br0',
    'ip -n node link set veth-b master br0',
    'ip -n node link set br0 up',
    'ip -n node link set veth-a up',
    'ip -n node link set veth-b up',
    'ip -n pa addr add 10.244.1.2/24 dev eth0',
    'ip -n pb addr add 10.244.1.3/24 dev eth0',
    'ip -n pa link set lo up',
    'ip -n pa link set eth0 up',
    'ip -n pb link set lo up',
    'ip -n pb link set eth0 up',
    `ip netns exec node sysctl -w net.bridge.bridge-nf-call-iptables=${callIptables}`,
  ];
}

type Table = 'raw' | 'mangle' | 'nat' | 'filter';

const BUILTIN: Record<Table, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export interface TableSpec {
  rules: string[];
  /** Built-in chain → policy (filter only really; DROP is refused elsewhere by iptables for nat). */
  policy?: Record<string, 'ACCEPT' | 'DROP'>;
  /** User-defined chains. */
  chains?: string[];
}

/** `iptables-restore` input for the given tables, in raw, mangle, nat, filter order. */
export function restore(tables: Partial<Record<Table, TableSpec | string[]>>): string {
  const out: string[] = [];
  for (const t of ['raw', 'mangle', 'nat', 'filter'] as const) {
    const raw = tables[t];
    if (!raw) continue;
    const spec: TableSpec = Array.isArray(raw) ? { rules: raw } : raw;
    out.push(`*${t}`);
    for (const c of BUILTIN[t]) out.push(`:${c} ${spec.policy?.[c] ?? 'ACCEPT'} [0:0]`);
    for (const c of spec.chains ?? []) out.push(`:${c} - [0:0]`);
    out.push(...spec.rules, 'COMMIT');
  }
  return `${out.join('\n')}\n`;
}

/**
 * A counting rule (no target) in every built-in chain of every table, for the given match, followed in filter by
 * `extraFilter` (e.g. a conntrack match, which is what switches conntrack on in a namespace).
 */
export function everyChain(match: string, extraFilter: string[] = []): string {
  const spec = (t: Table): string[] => BUILTIN[t].map((c) => `-A ${c} ${match}`);
  return restore({
    raw: spec('raw'),
    mangle: spec('mangle'),
    nat: spec('nat'),
    filter: [...spec('filter'), ...extraFilter],
  });
}
