// The NAT targets' binding step (xt_nat.c, nf_nat_masquerade.c, nf_nat_redirect.c) on a connection's first
// packet. SNAT and DNAT hand their range to nf_nat_setup_info. MASQUERADE takes the source address the kernel
// would choose for the next hop on the outgoing device (inet_select_addr: the first primary address whose prefix
// contains the next hop, else the first primary), drops the packet when the device has none, and remembers the
// device so its entries die with it. REDIRECT sends the packet to the incoming device's first address, or to
// 127.0.0.1 for locally generated packets (OUTPUT). A packet from 0.0.0.0 is not masqueraded.

import type { NfHook } from '../../netns/hooks.js';
import { inetSelectAddr } from '../../netns/ifaddr.js';
import type { NetDev } from '../../netns/netdev.js';
import type { NetNs } from '../../netns/netns.js';
import type { Ipv4 } from '../../wire/addr.js';
import type { NatKind, NatRange } from '../types.js';
import type { Conn } from './conn.js';
import type { Conntrack } from './conntrack.js';
import { natSetupInfo } from './nat_core.js';
import { NF_NAT_RANGE_MAP_IPS, toNfNatRange } from './nat_range.js';

export interface NatSetupCtx {
  /** The hook the target runs at (REDIRECT uses 127.0.0.1 at OUTPUT). */
  hook: NfHook;
  /** The namespace whose addresses MASQUERADE and REDIRECT read. */
  ns?: NetNs;
  /** Incoming device (REDIRECT at PREROUTING). */
  inDev?: NetDev | null;
  /** Outgoing device (MASQUERADE). */
  outDev?: NetDev | null;
  /** Next hop of the packet's route (gateway, or the destination itself); MASQUERADE picks the address for it. */
  nextHop?: Ipv4;
}

const LOOPBACK = 0x7f000001;

export function setupNat(
  ct: Conntrack,
  conn: Conn,
  kind: NatKind,
  range: NatRange,
  ctx: NatSetupCtx,
): 'accept' | 'drop' {
  const r = toNfNatRange(range);
  switch (kind) {
    case 'SNAT':
      return natSetupInfo(ct, conn, r, 'SRC');
    case 'DNAT':
      return natSetupInfo(ct, conn, r, 'DST');
    case 'MASQUERADE': {
      if (conn.original.src === 0) return 'accept';
      if (!ctx.ns || !ctx.outDev) return 'drop';
      const nextHop = ctx.nextHop ?? conn.reply.src;
      const newSrc = inetSelectAddr(ctx.ns, ctx.outDev, nextHop, 'global');
      if (newSrc === null || newSrc === 0) return 'drop';
      if (!conn.status.confirmed) conn.masqIndex = ctx.outDev.ifindex;
      return natSetupInfo(
        ct,
        conn,
        { ...r, flags: r.flags | NF_NAT_RANGE_MAP_IPS, minIp: newSrc, maxIp: newSrc },
        'SRC',
      );
    }
    case 'REDIRECT': {
      let newDst = 0;
      if (ctx.hook === 'OUTPUT') newDst = LOOPBACK;
      else if (ctx.ns && ctx.inDev) newDst = ctx.ns.addrsOf(ctx.inDev)[0]?.addr ?? 0;
      if (newDst === 0) return 'drop';
      return natSetupInfo(
        ct,
        conn,
        { ...r, flags: r.flags | NF_NAT_RANGE_MAP_IPS, minIp: newDst, maxIp: newDst },
        'DST',
      );
    }
  }
}
