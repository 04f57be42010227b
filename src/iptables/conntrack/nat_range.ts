// NAT ranges as the kernel holds them (struct nf_nat_range2 with NF_NAT_RANGE_* flags), converted from the shape
// the DNAT/SNAT/MASQUERADE/REDIRECT targets parse. Also which manip a hook performs (HOOK2MANIP): destination at
// PREROUTING and OUTPUT, source at POSTROUTING and INPUT.

import type { NfHook } from '../../netns/hooks.js';
import type { NatRange } from '../types.js';

export const NF_NAT_RANGE_MAP_IPS = 1 << 0;
export const NF_NAT_RANGE_PROTO_SPECIFIED = 1 << 1;
export const NF_NAT_RANGE_PROTO_RANDOM = 1 << 2;
export const NF_NAT_RANGE_PERSISTENT = 1 << 3;
export const NF_NAT_RANGE_PROTO_RANDOM_FULLY = 1 << 4;
export const NF_NAT_RANGE_PROTO_RANDOM_ALL = NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PROTO_RANDOM_FULLY;

export interface NfNatRange {
  flags: number;
  minIp: number;
  maxIp: number;
  minPort: number;
  maxPort: number;
}

export function toNfNatRange(r: NatRange): NfNatRange {
  let flags = 0;
  if (r.mapIps) flags |= NF_NAT_RANGE_MAP_IPS;
  if (r.mapPorts) flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
  if (r.random) flags |= NF_NAT_RANGE_PROTO_RANDOM;
  if (r.randomFully) flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
  if (r.persistent) flags |= NF_NAT_RANGE_PERSISTENT;
  return { flags, minIp: r.minIp >>> 0, maxIp: r.maxIp >>> 0, minPort: r.minPort, maxPort: r.maxPort };
}

export type Manip = 'SRC' | 'DST';

export function hookManip(hook: NfHook): Manip {
  return hook === 'POSTROUTING' || hook === 'INPUT' ? 'SRC' : 'DST';
}
