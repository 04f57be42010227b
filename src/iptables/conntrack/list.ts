// `conntrack -L` output (libnetfilter_conntrack's default format, as conntrack-tools 1.4.7 prints it): protocol
// name padded to 8 columns, protocol number, seconds left, TCP state, the original tuple, [UNREPLIED] until a
// reply was seen, the reply tuple, [ASSURED], mark and use. Also the summary conntrack writes on stderr, e.g.
// `conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.` Entries are listed oldest first (Linux
// lists them in hash-bucket order, which has no meaning to reproduce).
// Limits: `use=` is always 1 (Linux shows 2 while a packet of the entry waits in a queue); no zone, secctx,
// labels or offload flags.

import type { Nanos } from '../../sim/events.js';
import { NS_PER_S } from '../../sim/events.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ipv4.js';
import type { Conn } from './conn.js';
import type { Conntrack } from './conntrack.js';
import { formatTupleFields } from './tuple.js';

export const CONNTRACK_TOOL_VERSION = '1.4.7';

function protoName(p: number): string {
  if (p === IPPROTO_TCP) return 'tcp';
  if (p === IPPROTO_UDP) return 'udp';
  if (p === IPPROTO_ICMP) return 'icmp';
  return 'unknown';
}

/** Whole seconds until the entry expires (nf_ct_expires / HZ). */
export function secondsLeft(c: Conn, now: Nanos): number {
  return Math.max(0, Math.floor((c.timeoutAt - now) / NS_PER_S));
}

export function formatConntrackEntry(c: Conn, now: Nanos): string {
  const p = c.original.proto;
  let s = `${protoName(p).padEnd(8)} ${p} ${secondsLeft(c, now)} `;
  if (c.tcpState !== undefined) s += `${c.tcpState} `;
  s += `${formatTupleFields(c.original)} `;
  if (!c.status.seenReply) s += '[UNREPLIED] ';
  s += `${formatTupleFields(c.reply)} `;
  if (c.status.assured) s += '[ASSURED] ';
  return `${s}mark=${c.mark >>> 0} use=1`;
}

/** Lines for the given entries, each ending in a newline. */
export function formatConntrackLines(entries: readonly Conn[], now: Nanos): string {
  let out = '';
  for (const c of entries) out += `${formatConntrackEntry(c, now)}\n`;
  return out;
}

/** What `conntrack -L` prints on stdout for the whole table. */
export function formatConntrackList(ct: Conntrack, now: Nanos = ct.now()): string {
  return formatConntrackLines(ct.entries(), now);
}

/** The line conntrack prints on stderr after listing or deleting. */
export function conntrackSummary(n: number, verb: 'shown' | 'deleted'): string {
  return `conntrack v${CONNTRACK_TOOL_VERSION} (conntrack-tools): ${n} flow entries have been ${verb}.`;
}

/** The stderr line of `conntrack -F`. */
export function conntrackFlushSummary(): string {
  return `conntrack v${CONNTRACK_TOOL_VERSION} (conntrack-tools): connection tracking table has been emptied.`;
}
