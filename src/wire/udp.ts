// UDP header (RFC 768) with the IPv4 pseudo-header checksum. As in udp4_hwcsum/udp_set_csum, a computed
// checksum of 0 goes on the wire as 0xffff because 0 means "no checksum" — which is what Linux VXLAN devices
// created with `noudpcsum` send (iproute2's default is `udpcsum`, so flannel's devices checksum), and what
// receivers then accept without checking.

import { type Ipv4, readU16, writeU16 } from './addr.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { need, WireError } from './errors.js';
import { IPPROTO_UDP } from './ipv4.js';

export const UDP_HLEN = 8;

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

/**
 * Parses the 8-byte header. The length field must be at least 8; when `available` (the IP payload length) is
 * given it must not claim more than that. Leave it out for the first fragment of a fragmented datagram.
 */
export function parseUdp(b: Uint8Array, o: number, available?: number): UdpRepr {
  need(b, o, UDP_HLEN, 'udp');
  const length = readU16(b, o + 4);
  if (length < UDP_HLEN) throw new WireError('udp', `UDP length ${length} < 8`);
  if (available !== undefined && length > available) {
    throw new WireError('udp', `UDP length ${length} > ${available} bytes of IP payload`);
  }
  return { srcPort: readU16(b, o), dstPort: readU16(b, o + 2), length, checksum: readU16(b, o + 6) };
}

function udpSum(b: Uint8Array, o: number, udpLen: number, srcIp: Ipv4, dstIp: Ipv4): number {
  return checksumAdd(pseudoHeaderSum(srcIp, dstIp, IPPROTO_UDP, udpLen), b, o, udpLen);
}

/**
 * Writes the header in front of a payload already at o+8. With `checksum` false the checksum field is 0
 * ("no checksum"), as a VXLAN device with noudpcsum sends.
 */
export function emitUdpHeader(
  b: Uint8Array,
  o: number,
  srcPort: number,
  dstPort: number,
  udpLen: number,
  srcIp: Ipv4,
  dstIp: Ipv4,
  checksum = true,
): void {
  if (udpLen < UDP_HLEN || udpLen > 0xffff) throw new WireError('udp', `UDP length ${udpLen} out of range`);
  need(b, o, udpLen, 'udp', 'datagram');
  writeU16(b, o, srcPort);
  writeU16(b, o + 2, dstPort);
  writeU16(b, o + 4, udpLen);
  writeU16(b, o + 6, 0);
  if (!checksum) return;
  const c = checksumFinish(udpSum(b, o, udpLen, srcIp, dstIp));
  writeU16(b, o + 6, c === 0 ? 0xffff : c);
}

/** Checks the datagram's checksum against the pseudo-header; a zero checksum field means none was sent. */
export function udpChecksumOk(b: Uint8Array, o: number, srcIp: Ipv4, dstIp: Ipv4): boolean {
  need(b, o, UDP_HLEN, 'udp');
  if (readU16(b, o + 6) === 0) return true;
  const len = readU16(b, o + 4);
  if (len < UDP_HLEN || o + len > b.length) return false;
  return checksumFinish(udpSum(b, o, len, srcIp, dstIp)) === 0;
}

export function udpSrcPort(b: Uint8Array, o: number): number {
  return readU16(b, o);
}

export function udpDstPort(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}

export function udpLength(b: Uint8Array, o: number): number {
  return readU16(b, o + 4);
}
