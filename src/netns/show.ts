// Text output of the inspection commands, matching iproute2 byte for byte where the model has the same state:
// `ip -br link`, `ip -br addr`, `ip route [show table T]`, `ip neigh`. Differences that follow from the model:
// no IPv6 addresses (Linux lists ::1 and fe80:: link-local ones), and `ip neigh` lists entries in creation order
// where the kernel's order follows its hash table.

import { formatIpv4, formatMac } from '../wire/addr.js';
import { formatRoute, type Route, RT_TABLE_MAIN } from './fib.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';

export function showLinksBrief(ns: NetNs): string {
  return ns
    .devices()
    .map(
      (d) =>
        `${d.displayName().padEnd(16)} ${d.operState().padEnd(14)} ${formatMac(d.mac)} <${linkFlags(ns, d).join(',')}> \n`,
    )
    .join('');
}

/**
 * The device's flags plus iproute2's `M-DOWN`, which is not a kernel flag: ip(8) adds it when the link partner
 * (IFLA_LINK, a veth's peer) is in the same namespace and not administratively up (print_link_flags' m_flag);
 * for a partner in another namespace it cannot look the flags up and prints nothing.
 */
function linkFlags(ns: NetNs, d: NetDev): string[] {
  const f = d.flags();
  const l = d.iflink();
  if (l?.sameNs && ns.byIndex.get(l.ifindex)?.adminUp === false) return [...f, 'M-DOWN'];
  return f;
}

export function showAddrsBrief(ns: NetNs): string {
  return ns
    .devices()
    .map((d) => {
      const addrs = ns.addrsOf(d).map((a) => `${formatIpv4(a.addr)}/${a.len} `);
      return `${d.displayName().padEnd(16)} ${d.operState().padEnd(14)} ${addrs.join('')}\n`;
    })
    .join('');
}

/** Routes in the order a fib trie walk yields them: by destination, longer prefix first, then metric. */
export function sortRoutesForDump(routes: readonly Route[]): Route[] {
  return [...routes].sort((a, b) => a.dst - b.dst || b.len - a.len || a.metric - b.metric || a.order - b.order);
}

export function showRoutes(ns: NetNs, table: number | 'all' = RT_TABLE_MAIN): string {
  // inet_dump_fib walks the table hash (256 buckets by id & 255), so with the usual ids the dump runs in ascending
  // id order: numbered tables, then main (254), then local (255). Within one bucket the kernel lists the newest
  // table first; table creation order is not kept here, so ids 256 apart are listed higher id first.
  const ids = table === 'all' ? ns.fib.tableIds().sort((a, b) => (a & 255) - (b & 255) || b - a) : [table];
  const lines: string[] = [];
  for (const id of ids)
    for (const r of sortRoutesForDump(ns.fib.table(id)))
      lines.push(`${formatRoute(r, { showTable: table === 'all' })} \n`);
  return lines.join('');
}

export function showNeigh(ns: NetNs): string {
  return ns.neigh
    .entries()
    .map((n) => {
      const ll =
        n.mac !== null && n.state !== 'INCOMPLETE' && n.state !== 'FAILED' ? `lladdr ${formatMac(n.mac)} ` : '';
      return `${formatIpv4(n.ip)} dev ${n.dev.name} ${ll}${n.router ? 'router ' : ''}${n.state} \n`;
    })
    .join('');
}
