// The flannel CNI plugin's reading of subnet.env (flannel-io/cni-plugin loadFlannelSubnetEnv): line by line,
// `KEY=value` split at the first `=`; FLANNEL_NETWORK is a comma-separated list of CIDRs (networks, duplicates
// dropped), FLANNEL_SUBNET one CIDR (kept as its network: 10.244.1.1/24 reads as 10.244.1.0/24), FLANNEL_MTU an
// unsigned 32-bit number, FLANNEL_IPMASQ true only when it is exactly `true`; other lines are ignored. A missing
// file is os.Open's error; missing keys are listed (`/run/flannel/subnet.env is missing FLANNEL_NETWORK,
// FLANNEL_IPV6_NETWORK, …`), each IPv4 key standing with its IPv6 twin.
// Limits: the FLANNEL_IPV6_* keys are read but an IPv6 network is refused (podwire models IPv4 only).

import { goParseCidr } from '../../../overlay/flannel/go-net.js';
import type { Cidr } from '../../../wire/addr.js';
import type { NodeFs } from '../../types.js';

export interface FlannelSubnetEnv {
  /** FLANNEL_NETWORK, networks in file order. */
  networks: Cidr[];
  /** FLANNEL_SUBNET as a network. */
  subnet: Cidr;
  mtu: number;
  ipMasq: boolean;
}

/** strconv.ParseUint(s, 10, 32) with its error text. */
function parseUint32(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 0xffffffff) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

function cidr(text: string): Cidr {
  const p = goParseCidr(text);
  if (!p.ok) throw new Error(p.error);
  if (p.v6) throw new Error(`${text}: IPv6 is not supported by podwire`);
  return p.cidr;
}

function sameNet(a: Cidr, b: Cidr): boolean {
  return a.addr === b.addr && a.len === b.len;
}

/** loadFlannelSubnetEnv. Throws Error with the plugin's wording. */
export function loadFlannelSubnetEnv(fs: NodeFs, path: string): FlannelSubnetEnv {
  const text = fs.read(path);
  if (text === undefined) throw new Error(`open ${path}: no such file or directory`);
  let networks: Cidr[] | undefined;
  let v6Networks = false;
  let subnet: Cidr | undefined;
  let v6Subnet = false;
  let mtu: number | undefined;
  let ipMasq: boolean | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const value = (): string => {
      // The plugin indexes the second part without checking that there is one.
      if (eq < 0) throw new Error('runtime error: index out of range [1] with length 1');
      return line.slice(eq + 1);
    };
    switch (key) {
      case 'FLANNEL_NETWORK': {
        const list: Cidr[] = [];
        for (const c of value().split(',').map(cidr)) if (!list.some((x) => sameNet(x, c))) list.push(c);
        networks = list;
        break;
      }
      case 'FLANNEL_SUBNET':
        subnet = cidr(value());
        break;
      case 'FLANNEL_IPV6_NETWORK':
      case 'FLANNEL_IPV6_SUBNET':
        for (const c of value().split(',')) {
          const p = goParseCidr(c);
          if (!p.ok) throw new Error(p.error);
        }
        if (key === 'FLANNEL_IPV6_NETWORK') v6Networks = true;
        else v6Subnet = true;
        break;
      case 'FLANNEL_MTU':
        mtu = parseUint32(value());
        break;
      case 'FLANNEL_IPMASQ':
        ipMasq = value() === 'true';
        break;
    }
  }
  const missing: string[] = [];
  if ((networks === undefined || networks.length === 0) && !v6Networks)
    missing.push('FLANNEL_NETWORK', 'FLANNEL_IPV6_NETWORK');
  if (subnet === undefined && !v6Subnet) missing.push('FLANNEL_SUBNET', 'FLANNEL_IPV6_SUBNET');
  if (mtu === undefined) missing.push('FLANNEL_MTU');
  if (ipMasq === undefined) missing.push('FLANNEL_IPMASQ');
  if (missing.length > 0) throw new Error(`${path} is missing ${missing.join(', ')}`);
  if (subnet === undefined || networks === undefined || networks.length === 0)
    throw new Error(`${path}: an IPv6-only flannel network is not supported by podwire`);
  return { networks, subnet, mtu: mtu!, ipMasq: ipMasq! };
}
