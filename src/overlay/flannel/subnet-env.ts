// /run/flannel/subnet.env as flanneld writes it (pkg/subnet WriteSubnetFile) for the CNI plugin: FLANNEL_NETWORK
// (the configured Network), FLANNEL_SUBNET (the lease's first address with the lease's length: 10.244.1.1/24),
// FLANNEL_MTU (the backend's MTU) and FLANNEL_IPMASQ (whether flanneld masquerades, `true`/`false`), one
// `KEY=value` line each in that order, written whole (renameio) after the parent directory is made. flanneld
// reads FLANNEL_NETWORK and FLANNEL_SUBNET back on restart (godotenv; the subnet as a network) to recycle its
// masquerade rules when they changed.
// Limits: IPv4 only, so the FLANNEL_IPV6_* lines never appear.

import { mkdirAll } from '../../cni/fs.js';
import type { NodeFs } from '../../cni/types.js';
import { type Cidr, formatCidr } from '../../wire/addr.js';
import { goParseCidr } from './go-net.js';

/** flanneld --subnet-file default. */
export const SUBNET_FILE = '/run/flannel/subnet.env';

export interface SubnetEnv {
  network: Cidr;
  subnet: Cidr;
  mtu: number;
  ipMasq: boolean;
}

/** The file's text. */
export function formatSubnetEnv(e: SubnetEnv): string {
  const first = { addr: (e.subnet.addr + 1) >>> 0, len: e.subnet.len };
  return `FLANNEL_NETWORK=${formatCidr(e.network)}\nFLANNEL_SUBNET=${formatCidr(first)}\nFLANNEL_MTU=${e.mtu}\nFLANNEL_IPMASQ=${e.ipMasq}\n`;
}

/** WriteSubnetFile into the node's files. */
export function writeSubnetFile(fs: NodeFs, e: SubnetEnv, path = SUBNET_FILE): void {
  mkdirAll(fs, path.slice(0, path.lastIndexOf('/')) || '/');
  fs.write(path, formatSubnetEnv(e));
}

/**
 * ReadCIDRFromSubnetFile: the network of `key`'s value (one CIDR), or 0.0.0.0/0 when the file, the key or a
 * valid single value is missing.
 */
export function readCidrFromSubnetFile(fs: NodeFs, key: string, path = SUBNET_FILE): Cidr {
  const empty = { addr: 0, len: 0 };
  const text = fs.read(path);
  if (text === undefined) return empty;
  let value: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] === key) value = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  if (value === undefined) return empty;
  const cidrs = value
    .split(',')
    .map(goParseCidr)
    .flatMap((p) => (p.ok && !p.v6 ? [p.cidr] : []));
  return cidrs.length === 1 ? cidrs[0]! : empty;
}
