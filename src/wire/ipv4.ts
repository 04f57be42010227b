// IPv4 header (RFC 791): a parsed record for matching and printing, and in-place accessors for the forwarding
// path. Validation follows ip_rcv_core: version 4, IHL at least 5, total length at least the header and no longer
// than the bytes present. ipDecreaseTtl and ipSetSrc/ipSetDst patch the header checksum incrementally exactly
// like ip_decrease_ttl and the NAT helpers (csum_replace4), so the bytes match what Linux forwards.
// Limits: options are carried as raw bytes (never interpreted); the reserved "evil" flag bit is not kept.

import { type Ipv4, readU16, readU32, writeU16, writeU32 } from './addr.js';
import { checksumAdd, checksumFinish, checksumReplace32, internetChecksum } from './checksum.js';
import { need, WireError } from './errors.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HLEN = 20;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;

export interface Ipv4Repr {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** In bytes (the header field counts 8-byte units). */
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Ipv4;
  dst: Ipv4;
  options: Uint8Array;
}

export function parseIpv4Header(b: Uint8Array, o: number, available: number = b.length - o): Ipv4Repr {
  const avail = Math.min(available, b.length - o);
  if (o < 0 || avail < IPV4_HLEN) throw new WireError('ipv4', `truncated IPv4 header: ${Math.max(0, avail)} bytes`);
  const version = b[o]! >> 4;
  if (version !== 4) throw new WireError('ipv4', `IPv4 version ${version}`);
  const headerLength = (b[o]! & 0x0f) * 4;
  if (headerLength < IPV4_HLEN) throw new WireError('ipv4', `IPv4 header length ${headerLength} < 20`);
  if (avail < headerLength)
    throw new WireError('ipv4', `truncated IPv4 options: header length ${headerLength}, ${avail} bytes`);
  const totalLength = readU16(b, o + 2);
  if (totalLength < headerLength) {
    throw new WireError('ipv4', `IPv4 total length ${totalLength} < header length ${headerLength}`);
  }
  if (totalLength > avail)
    throw new WireError('ipv4', `truncated IPv4 packet: total length ${totalLength}, ${avail} bytes`);
  const frag = readU16(b, o + 6);
  return {
    headerLength,
    tos: b[o + 1]!,
    totalLength,
    id: readU16(b, o + 4),
    df: (frag & IP_DF) !== 0,
    mf: (frag & IP_MF) !== 0,
    fragOffset: (frag & IP_OFFMASK) * 8,
    ttl: b[o + 8]!,
    protocol: b[o + 9]!,
    checksum: readU16(b, o + 10),
    src: readU32(b, o + 12),
    dst: readU32(b, o + 16),
    options: b.slice(o + IPV4_HLEN, o + headerLength),
  };
}

/** Writes the header and options (zero-padded to 4 bytes), fills the checksum, returns the header length. */
export function emitIpv4Header(b: Uint8Array, o: number, r: Omit<Ipv4Repr, 'checksum' | 'headerLength'>): number {
  const optLen = (r.options.length + 3) & ~3;
  const hl = IPV4_HLEN + optLen;
  if (hl > 60) throw new WireError('ipv4', `IPv4 options too long: ${r.options.length} bytes`);
  if (r.fragOffset % 8 !== 0 || r.fragOffset < 0 || r.fragOffset > IP_OFFMASK * 8) {
    throw new WireError('ipv4', `IPv4 fragment offset ${r.fragOffset} is not a multiple of 8 below 65536`);
  }
  need(b, o, hl, 'ipv4');
  b[o] = 0x40 | (hl >> 2);
  b[o + 1] = r.tos & 0xff;
  writeU16(b, o + 2, r.totalLength);
  writeU16(b, o + 4, r.id);
  writeU16(b, o + 6, (r.df ? IP_DF : 0) | (r.mf ? IP_MF : 0) | (r.fragOffset / 8));
  b[o + 8] = r.ttl & 0xff;
  b[o + 9] = r.protocol & 0xff;
  writeU16(b, o + 10, 0);
  writeU32(b, o + 12, r.src);
  writeU32(b, o + 16, r.dst);
  b.set(r.options, o + IPV4_HLEN);
  b.fill(0, o + IPV4_HLEN + r.options.length, o + hl);
  writeU16(b, o + 10, internetChecksum(b, o, hl));
  return hl;
}

/**
 * A 20-byte header without options, not fragmented, checksum filled: what the stack writes for every packet it
 * originates. Positional arguments and no validation, because it runs per packet; emitIpv4Header is the general form.
 */
export function emitIpv4BaseHeader(
  b: Uint8Array,
  o: number,
  tos: number,
  totalLength: number,
  id: number,
  df: boolean,
  ttl: number,
  protocol: number,
  src: Ipv4,
  dst: Ipv4,
): void {
  b[o] = 0x45;
  b[o + 1] = tos & 0xff;
  writeU16(b, o + 2, totalLength);
  writeU16(b, o + 4, id);
  b[o + 6] = df ? IP_DF >>> 8 : 0;
  b[o + 7] = 0;
  b[o + 8] = ttl & 0xff;
  b[o + 9] = protocol & 0xff;
  b[o + 10] = 0;
  b[o + 11] = 0;
  writeU32(b, o + 12, src);
  writeU32(b, o + 16, dst);
  writeU16(b, o + 10, internetChecksum(b, o, IPV4_HLEN));
}

export function ipHeaderLen(b: Uint8Array, o: number): number {
  return (b[o]! & 0x0f) * 4;
}

export function ipTos(b: Uint8Array, o: number): number {
  return b[o + 1]!;
}

export function ipTotalLen(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}

export function ipId(b: Uint8Array, o: number): number {
  return readU16(b, o + 4);
}

export function ipDf(b: Uint8Array, o: number): boolean {
  return (b[o + 6]! & 0x40) !== 0;
}

export function ipMf(b: Uint8Array, o: number): boolean {
  return (b[o + 6]! & 0x20) !== 0;
}

/** Fragment offset in bytes. */
export function ipFragOffset(b: Uint8Array, o: number): number {
  return (readU16(b, o + 6) & IP_OFFMASK) * 8;
}

/** True for any fragment (first, middle or last): what ip_is_fragment tests. */
export function ipIsFragment(b: Uint8Array, o: number): boolean {
  return (readU16(b, o + 6) & (IP_MF | IP_OFFMASK)) !== 0;
}

export function ipTtl(b: Uint8Array, o: number): number {
  return b[o + 8]!;
}

export function ipProto(b: Uint8Array, o: number): number {
  return b[o + 9]!;
}

export function ipChecksum(b: Uint8Array, o: number): number {
  return readU16(b, o + 10);
}

export function ipSrc(b: Uint8Array, o: number): Ipv4 {
  return readU32(b, o + 12);
}

export function ipDst(b: Uint8Array, o: number): Ipv4 {
  return readU32(b, o + 16);
}

/**
 * ip_decrease_ttl: the TTL byte is the high half of the 16-bit word it shares with the protocol, so the checksum
 * goes up by 0x0100, with the end-around carry folded in by hand.
 */
export function ipDecreaseTtl(b: Uint8Array, o: number): void {
  let check = readU16(b, o + 10) + 0x0100;
  check = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  writeU16(b, o + 10, check);
  b[o + 8] = (b[o + 8]! - 1) & 0xff;
}

export function ipSetSrc(b: Uint8Array, o: number, a: Ipv4): void {
  const old = readU32(b, o + 12);
  writeU32(b, o + 12, a);
  writeU16(b, o + 10, checksumReplace32(readU16(b, o + 10), old, a >>> 0));
}

export function ipSetDst(b: Uint8Array, o: number, a: Ipv4): void {
  const old = readU32(b, o + 16);
  writeU32(b, o + 16, a);
  writeU16(b, o + 10, checksumReplace32(readU16(b, o + 10), old, a >>> 0));
}

/** As ip_fast_csum(iph, ihl) == 0 in ip_rcv_core: the header including its checksum sums to all ones. */
export function ipHeaderChecksumOk(b: Uint8Array, o: number): boolean {
  return checksumFinish(checksumAdd(0, b, o, ipHeaderLen(b, o))) === 0;
}

export function ipFillChecksum(b: Uint8Array, o: number): void {
  writeU16(b, o + 10, 0);
  writeU16(b, o + 10, internetChecksum(b, o, ipHeaderLen(b, o)));
}
