// Text output of the inspection commands, matching iproute2 byte for byte where the model has the same state:
// `ip -br link`, `ip -d link show`, `ip -br addr`, `ip route [show table T]`, `ip neigh`. Differences that follow
// from the model: no IPv6 addresses (Linux lists ::1 and fe80:: link-local ones), and `ip neigh` lists entries in
// creation order where the kernel's order follows its hash table. In `ip -d link`, the kind's own attributes come
// from the device (NetDev.linkInfoData, and its master's slaveInfo for a port); a veth whose peer is in the initial
// namespace shows `link-netnsid 0` (that namespace has no name under /run/netns, and is normally the first peer
// namespace a pod's namespace gets an id for); the group is always `default` and every queue length 1000.

import { formatIpv4, formatMac } from '../wire/addr.js';
import { NetlinkError } from './errors.js';
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

/** The peer namespace as `ip -d link` names it: `link-netns NAME`, or `link-netnsid 0` for the initial one. */
function linkNetns(d: NetDev): string {
  const peer = (d as NetDev & { peer?: NetDev }).peer;
  if (!d.iflink() || !peer || peer.ns === d.ns) return '';
  return peer.ns === d.ns.kernel.root ? ' link-netnsid 0' : ` link-netns ${peer.ns.name}`;
}

function linkDetail(ns: NetNs, d: NetDev): string {
  const loop = d.kind === 'loopback';
  const master = d.master ? ` master ${d.master.name}` : '';
  // A bridge port is made promiscuous and allmulti by the bridge (br_add_if, br_manage_promisc).
  const promiscuity = (d.master ? 1 : 0) + (d.promisc ? 1 : 0);
  const allmulti = d.master ? 1 : 0;
  const brd = loop ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff';
  let out = `${d.ifindex}: ${d.displayName()}: <${linkFlags(ns, d).join(',')}> mtu ${d.mtu} qdisc ${
    d.qdiscAttached ? 'noqueue' : 'noop'
  }${master} state ${d.operState()} mode DEFAULT group default qlen 1000\n`;
  out += `    link/${loop ? 'loopback' : 'ether'} ${formatMac(d.mac)} brd ${brd}${linkNetns(d)}`;
  out += ` promiscuity ${promiscuity}  allmulti ${allmulti} minmtu ${d.minMtu} maxmtu ${d.maxMtu} `;
  if (!loop) out += `\n    ${d.kind} ${d.linkInfoData()}`;
  const slave = d.master?.slaveInfo(d);
  if (slave) out += `\n    ${slave}`;
  const q = d.numTxQueues();
  out += `addrgenmode eui64 numtxqueues ${q} numrxqueues ${q} gso_max_size 65536 gso_max_segs 65535 `;
  out += `tso_max_size ${d.tsoMaxSize()} tso_max_segs 65535 gro_max_size 65536 \n`;
  return out;
}

/** `ip -d link show [dev DEV]`. */
export function ipLinkShowDetail(ns: NetNs, dev?: string): string {
  if (dev !== undefined) {
    const d = ns.devs.get(dev);
    if (!d) throw new NetlinkError(`Device "${dev}" does not exist.`, 'ENODEV');
    return linkDetail(ns, d);
  }
  return ns
    .devices()
    .map((d) => linkDetail(ns, d))
    .join('');
}
