// Stale UDP conntrack cleanup after a sync (pkg/proxy/conntrack/cleanup.go CleanStaleEntries, v1.35/v1.36): UDP has
// no connection teardown, so a flow DNATed to an endpoint that is gone would keep being sent there. For every UDP
// service port with serving endpoints, entries whose original destination is one of its frontends (cluster IP,
// load-balancer IPs, external IPs : port) or whose original destination port is its NodePort, but whose reply
// source is not a serving endpoint, are deleted — with the `conntrack -D` filters kube-proxy uses (--orig-dst,
// --orig-port-dst, --reply-src for frontends; --orig-port-dst, --reply-src for NodePorts). A port without serving
// endpoints is left alone. Limits: IPv4 only.

import { conntrackDelete, netfilterOf } from '../iptables/index.js';
import type { NetNs } from '../netns/netns.js';
import { formatIpv4, parseIpv4 } from '../wire/addr.js';
import type { EndpointsMap, ServicePortMap } from './changetracker.js';

const IPPROTO_UDP = 17;

export interface CleanupResult {
  /** Filters applied, as `conntrack -D` options. */
  filters: string[];
  deleted: number;
}

export function cleanStaleEntries(ns: NetNs, services: ServicePortMap, endpoints: EndpointsMap): CleanupResult {
  const result: CleanupResult = { filters: [], deleted: 0 };
  const ct = netfilterOf(ns).conntrack;
  if (ct === null) return result;
  const byFrontend = new Map<string, Set<number>>();
  const byNodePort = new Map<number, Set<number>>();
  for (const [key, svc] of services) {
    if (svc.protocol !== 'UDP') continue;
    const ips = new Set<number>();
    for (const ep of endpoints.get(key) ?? []) if (ep.serving) ips.add(parseIpv4(ep.ip)!);
    if (ips.size === 0) continue;
    byFrontend.set(`${svc.clusterIP}:${svc.port}`, ips);
    for (const ip of svc.loadBalancerVIPs) byFrontend.set(`${ip}:${svc.port}`, ips);
    for (const ip of svc.externalIPs) byFrontend.set(`${ip}:${svc.port}`, ips);
    if (svc.nodePort !== 0) byNodePort.set(svc.nodePort, ips);
  }
  const filters: { origDst?: number; origDport: number; replySrc: number }[] = [];
  for (const c of ct.entries()) {
    if (c.original.proto !== IPPROTO_UDP) continue;
    const replySrc = c.reply.src;
    const fe = byFrontend.get(`${formatIpv4(c.original.dst)}:${c.original.dport}`);
    if (fe !== undefined && !fe.has(replySrc))
      filters.push({ origDst: c.original.dst, origDport: c.original.dport, replySrc });
    const np = byNodePort.get(c.original.dport);
    if (np !== undefined && !np.has(replySrc)) filters.push({ origDport: c.original.dport, replySrc });
  }
  for (const f of filters) {
    result.filters.push(
      `-p udp${f.origDst !== undefined ? ` --orig-dst ${formatIpv4(f.origDst)}` : ''} --orig-port-dst ${f.origDport} --reply-src ${formatIpv4(f.replySrc)}`,
    );
    result.deleted += conntrackDelete(ns, { proto: IPPROTO_UDP, ...f });
  }
  return result;
}
