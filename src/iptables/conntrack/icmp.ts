// The ICMP tracker (nf_conntrack_proto_icmp.c): echo, timestamp, information and address-mask requests start
// entries that live 30 s and are answered by the matching reply type; any other message that is not an error
// (a lone echo reply, an unknown type) is INVALID. Errors (destination unreachable, source quench, redirect, time
// exceeded, parameter problem) are not tracked themselves: they are RELATED to the connection whose packet they
// quote (nf_conntrack_inet_error), which the table resolves. At PREROUTING the checksum is verified first.

import { icmpChecksumOk } from '../../wire/icmp.js';
import type { Conn } from './conn.js';
import type { TrackVerdict } from './tcp.js';
import type { CtTimeouts } from './timeouts.js';

/** Highest ICMP type Linux knows (NR_ICMP_TYPES); anything above is INVALID. */
const NR_ICMP_TYPES = 18;

const VALID_NEW = new Set([8, 13, 15, 17]);

/** The checks of nf_conntrack_icmpv4_error before the error lookup; null when the message may be processed. */
export function icmpPrecheck(b: Uint8Array, th: number, len: number, verifyChecksum: boolean): string | null {
  if (len < 8) return 'short packet';
  if (verifyChecksum && !icmpChecksumOk(b, th, len)) return 'bad hw icmp checksum';
  if (b[th]! > NR_ICMP_TYPES) return 'invalid icmp type';
  return null;
}

export function icmpPacket(
  conn: Conn,
  env: { timeouts: CtTimeouts; refresh(conn: Conn, seconds: number): void },
): TrackVerdict {
  const type = conn.original.dport >> 8;
  if (!VALID_NEW.has(type)) return { v: 'invalid', why: `icmp: can't create new conn with type ${type}` };
  env.refresh(conn, env.timeouts.icmp);
  return { v: 'accept' };
}
