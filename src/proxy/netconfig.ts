// Two pieces of kube-proxy configuration that shape rules (pkg/proxy/util, v1.35/v1.36):
// - --nodeport-addresses: the IPv4 CIDRs whose local addresses accept NodePorts; none given (or 0.0.0.0/0) means
//   every local address, matched with `-m addrtype --dst-type LOCAL`; otherwise one rule per matching address.
//   A CIDR containing 127.0.0.0 makes IPv4 loopback NodePorts possible.
// - the local-traffic detector (--detect-local-mode): ClusterCIDR (`-s CIDR` / `! -s CIDR`), BridgeInterface
//   (`-i IFACE`), InterfaceNamePrefix (`-i PREFIX+`), or none (no rule is written where upstream needs one).
// Limits: IPv4 only; addresses of other families in --nodeport-addresses are ignored as upstream's IPv4 proxier does.

import { formatIpv4, type Ipv4 } from '../wire/addr.js';
import { formatNet, type Net4, netContains, parseCidrSloppy } from './ip.js';

export class NodePortAddresses {
  readonly cidrs: Net4[] = [];
  readonly matchAll: boolean;
  readonly containsIPv4Loopback: boolean;

  constructor(cidrStrings: readonly string[] = []) {
    let strings = cidrStrings.filter((s) => parseCidrSloppy(s) !== null);
    if (strings.length === 0) strings = ['0.0.0.0/0'];
    let all = false;
    let loop = false;
    for (const s of strings) {
      const n = parseCidrSloppy(s)!;
      if (n.addr >>> 24 === 127 || netContains(n, 0x7f000000)) loop = true;
      if (n.len === 0) {
        this.cidrs.length = 0;
        this.cidrs.push(n);
        all = true;
        break;
      }
      this.cidrs.push(n);
    }
    this.matchAll = all;
    this.containsIPv4Loopback = loop;
  }

  /** The node's addresses inside the CIDRs, deduplicated, in CIDR then interface order. */
  nodeIPs(interfaceAddrs: readonly Ipv4[]): string[] {
    const out: string[] = [];
    for (const c of this.cidrs)
      for (const a of interfaceAddrs) {
        const s = formatIpv4(a);
        if (netContains(c, a) && !out.includes(s)) out.push(s);
      }
    return out;
  }

  toString(): string {
    return `[${this.cidrs.map(formatNet).join(' ')}]`;
  }
}

export type LocalDetectorSpec =
  | { mode: 'ClusterCIDR'; cidr: string }
  | { mode: 'BridgeInterface'; iface: string }
  | { mode: 'InterfaceNamePrefix'; prefix: string };

/** The match words for "comes from a local pod" and its negation; null when no detector is configured. */
export interface LocalDetector {
  ifLocal: string;
  ifNotLocal: string;
}

export function localDetector(spec: LocalDetectorSpec | null): LocalDetector | null {
  if (spec === null) return null;
  switch (spec.mode) {
    case 'ClusterCIDR': {
      const n = parseCidrSloppy(spec.cidr);
      if (n === null) throw new Error(`invalid cluster CIDR ${spec.cidr}`);
      const c = formatNet(n);
      return { ifLocal: `-s ${c}`, ifNotLocal: `! -s ${c}` };
    }
    case 'BridgeInterface':
      return { ifLocal: `-i ${spec.iface}`, ifNotLocal: `! -i ${spec.iface}` };
    case 'InterfaceNamePrefix':
      return { ifLocal: `-i ${spec.prefix}+`, ifNotLocal: `! -i ${spec.prefix}+` };
  }
}
