// The UDP tracker (nf_conntrack_proto_udp.c): udp_error rejects truncated datagrams and, at PREROUTING, a bad
// non-zero checksum; an entry lives 30 s after each packet until a reply is seen, and a flow still active more
// than 2 s after its first packet, with replies, becomes a stream: 120 s and ASSURED.

import type { Nanos } from '../../sim/events.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../wire/checksum.js';
import { IPPROTO_UDP } from '../../wire/ipv4.js';
import type { Conn } from './conn.js';
import type { TrackVerdict } from './tcp.js';
import { type CtTimeouts, secs } from './timeouts.js';

export interface UdpTrackerEnv {
  now: Nanos;
  timeouts: CtTimeouts;
  refresh(conn: Conn, seconds: number): void;
}

/** udp_error: null when trackable. `udplen` is the IP payload length. */
export function udpError(
  b: Uint8Array,
  th: number,
  udplen: number,
  checksum: { src: number; dst: number } | null,
): string | null {
  if (udplen < 8) return 'short packet';
  const len = (b[th + 4]! << 8) | b[th + 5]!;
  if (len > udplen || len < 8) return 'truncated/malformed packet';
  if (((b[th + 6]! << 8) | b[th + 7]!) === 0) return null;
  if (checksum) {
    // nf_checksum covers the whole IP payload with its length in the pseudo-header.
    const sum = checksumAdd(pseudoHeaderSum(checksum.src, checksum.dst, IPPROTO_UDP, udplen), b, th, udplen);
    if (checksumFinish(sum) !== 0) return 'bad checksum';
  }
  return null;
}

export function udpPacket(
  conn: Conn,
  b: Uint8Array,
  th: number,
  udplen: number,
  checksum: { src: number; dst: number } | null,
  env: UdpTrackerEnv,
): TrackVerdict {
  const err = udpError(b, th, udplen, checksum);
  if (err) return { v: 'invalid', why: err };
  const T = env.timeouts;
  if (!conn.status.confirmed) conn.udpStreamTs = env.now + secs(2);
  if (conn.status.seenReply) {
    let extra = T.udp;
    let stream = false;
    if (env.now > conn.udpStreamTs) {
      extra = T.udpStream;
      stream = !conn.status.assured;
    }
    env.refresh(conn, extra);
    if (stream) conn.status.assured = true;
  } else {
    env.refresh(conn, T.udp);
  }
  return { v: 'accept' };
}
