// Connection tracking and NAT for one namespace, as the netfilter engine uses them. Per packet: `inPacket` at
// PREROUTING and OUTPUT (after the raw table), then at each nat hook `natRulesWanted` → traverse the nat chain
// (whose DNAT/SNAT/MASQUERADE/REDIRECT targets call `setupNat`) → `natPacket`; `confirm` at the end of
// POSTROUTING and INPUT. `conntrack -L/-D/-F` views are in list.ts and filter.ts.

import type { NetNs } from '../../netns/netns.js';
import { Conntrack, type ConntrackOptions } from './conntrack.js';

export { Conn, DIR_ORIGINAL, DIR_REPLY, type DirIndex } from './conn.js';
export { Conntrack, type ConntrackOptions, type CtResult, type Lookup } from './conntrack.js';
export { type CtFilter, ctFilterMatches, type NatFilter } from './filter.js';
export {
  CONNTRACK_TOOL_VERSION,
  conntrackFlushSummary,
  conntrackSummary,
  formatConntrackEntry,
  formatConntrackLines,
  formatConntrackList,
  secondsLeft,
} from './list.js';
export type { NatPacketResult } from './nat_hook.js';
export { hookManip, type Manip } from './nat_range.js';
export type { NatSetupCtx } from './nat_target.js';
export { type CtTimeouts, DEFAULT_TIMEOUTS } from './timeouts.js';
export { formatTupleFields, formatTupleShort, invertTuple, tupleEqual } from './tuple.js';

/** Key of the table in `ns.ext`. */
export const CONNTRACK_EXT_KEY = 'nf_conntrack';

/**
 * The namespace's conntrack table, created on first use with the kernel's clock and PRNG. Creating it also
 * registers the masquerade notifier: entries masqueraded through a device die when it goes down or away.
 */
export function getConntrack(ns: NetNs, opts: Partial<ConntrackOptions> = {}): Conntrack {
  const existing = ns.ext.get(CONNTRACK_EXT_KEY);
  if (existing instanceof Conntrack) return existing;
  const ct = new Conntrack({ now: () => ns.kernel.queue.now, rng: ns.kernel.rng, ...opts });
  ns.ext.set(CONNTRACK_EXT_KEY, ct);
  ns.onNetdevEvent((ev, dev) => {
    if (ev === 'down' || ev === 'unregister') ct.flushMasquerade(dev.ifindex);
  });
  return ct;
}
