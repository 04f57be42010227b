// TCP header (RFC 9293) with the options Linux negotiates: MSS, window scale, SACK permitted, timestamps and SACK
// blocks. emitTcpHeader lays options out exactly as tcp_options_write does: MSS first; timestamps preceded by
// SACK_PERM when both are sent (04 02 08 0a) or by two NOPs otherwise (01 01 08 0a); SACK_PERM alone as
// 01 01 04 02; window scale as 01 03 03 ws; SACK blocks as 01 01 05 len. Parsing accepts any layout and, like
// tcp_parse_options, stops at a malformed option rather than rejecting the segment. `flags` holds the low 12
// bits of the flags word: the 8 classic flags plus AE and the reserved bits of byte 12, so a parsed header
// re-emits to the same bytes. Options other than those above (MD5, AO, Fast Open, MPTCP) are skipped on parse.

import { type Ipv4, readU16, readU32, writeU16, writeU32 } from './addr.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { need, WireError } from './errors.js';
import { IPPROTO_TCP } from './ipv4.js';

export const TCP_FIN = 1;
export const TCP_SYN = 2;
export const TCP_RST = 4;
export const TCP_PSH = 8;
export const TCP_ACK = 16;
export const TCP_URG = 32;
export const TCP_ECE = 64;
export const TCP_CWR = 128;
/** Accurate ECN flag (RFC 9768), bit 0 of byte 12, the former NS bit. */
export const TCP_AE = 256;
export const TCP_HLEN = 20;

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackPerm?: boolean;
  timestamp?: [number, number];
  /** SACK blocks as [left edge, right edge) pairs. */
  sack?: [number, number][];
}

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Bytes. */
  headerLength: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOptions;
}

export interface TcpHeaderFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  options: TcpOptions;
}

function parseOptions(b: Uint8Array, start: number, end: number): TcpOptions {
  const opts: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const size = b[i + 1]!;
    if (size < 2 || i + size > end) break;
    if (kind === TCPOPT_MSS && size === 4) opts.mss = readU16(b, i + 2);
    else if (kind === TCPOPT_WINDOW && size === 3) opts.wscale = b[i + 2]!;
    else if (kind === TCPOPT_SACK_PERM && size === 2) opts.sackPerm = true;
    else if (kind === TCPOPT_TIMESTAMP && size === 10) opts.timestamp = [readU32(b, i + 2), readU32(b, i + 6)];
    else if (kind === TCPOPT_SACK && size >= 10 && (size - 2) % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let j = i + 2; j < i + size; j += 8) blocks.push([readU32(b, j), readU32(b, j + 4)]);
      opts.sack = blocks;
    }
    i += size;
  }
  return opts;
}

/** Parses the header of a segment of `len` bytes (header + payload) at `o`. */
export function parseTcp(b: Uint8Array, o: number, len: number): TcpRepr {
  if (len < TCP_HLEN) throw new WireError('tcp', `TCP segment of ${len} bytes is shorter than the 20-byte header`);
  need(b, o, len, 'tcp', 'segment');
  const headerLength = (b[o + 12]! >> 4) * 4;
  if (headerLength < TCP_HLEN) throw new WireError('tcp', `TCP header length ${headerLength} < 20`);
  if (headerLength > len) throw new WireError('tcp', `TCP header length ${headerLength} > segment length ${len}`);
  return {
    srcPort: readU16(b, o),
    dstPort: readU16(b, o + 2),
    seq: readU32(b, o + 4),
    ack: readU32(b, o + 8),
    headerLength,
    flags: ((b[o + 12]! & 0x0f) << 8) | b[o + 13]!,
    window: readU16(b, o + 14),
    checksum: readU16(b, o + 16),
    urgent: readU16(b, o + 18),
    options: parseOptions(b, o + TCP_HLEN, o + headerLength),
  };
}

/** Bytes the options take in Linux's layout (always a multiple of 4). */
export function tcpOptionsLength(opts: TcpOptions): number {
  let n = 0;
  if (opts.mss !== undefined) n += 4;
  if (opts.timestamp !== undefined) n += 12;
  else if (opts.sackPerm) n += 4;
  if (opts.wscale !== undefined) n += 4;
  if (opts.sack !== undefined && opts.sack.length > 0) n += 4 + 8 * opts.sack.length;
  return n;
}

function writeOptions(b: Uint8Array, o: number, opts: TcpOptions): void {
  let p = o;
  const word = (a: number, c: number, d: number, e: number): void => {
    b[p] = a;
    b[p + 1] = c;
    b[p + 2] = d;
    b[p + 3] = e;
    p += 4;
  };
  if (opts.mss !== undefined) {
    word(TCPOPT_MSS, 4, 0, 0);
    writeU16(b, p - 2, opts.mss);
  }
  if (opts.timestamp !== undefined) {
    if (opts.sackPerm) word(TCPOPT_SACK_PERM, 2, TCPOPT_TIMESTAMP, 10);
    else word(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10);
    writeU32(b, p, opts.timestamp[0] >>> 0);
    writeU32(b, p + 4, opts.timestamp[1] >>> 0);
    p += 8;
  } else if (opts.sackPerm) {
    word(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, 2);
  }
  if (opts.wscale !== undefined) word(TCPOPT_NOP, TCPOPT_WINDOW, 3, opts.wscale & 0xff);
  if (opts.sack !== undefined && opts.sack.length > 0) {
    word(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 2 + 8 * opts.sack.length);
    for (const [left, right] of opts.sack) {
      writeU32(b, p, left >>> 0);
      writeU32(b, p + 4, right >>> 0);
      p += 8;
    }
  }
}

/**
 * Writes header and options in front of a payload of `payloadLen` bytes already at o + header length, fills the
 * checksum over header and payload with the pseudo-header, returns the header length.
 */
export function emitTcpHeader(
  b: Uint8Array,
  o: number,
  r: TcpHeaderFields,
  payloadLen: number,
  srcIp: Ipv4,
  dstIp: Ipv4,
): number {
  const hl = TCP_HLEN + tcpOptionsLength(r.options);
  if (hl > 60) throw new WireError('tcp', `TCP options need ${hl - TCP_HLEN} bytes, at most 40 fit`);
  need(b, o, hl + payloadLen, 'tcp', 'segment');
  writeU16(b, o, r.srcPort);
  writeU16(b, o + 2, r.dstPort);
  writeU32(b, o + 4, r.seq >>> 0);
  writeU32(b, o + 8, r.ack >>> 0);
  b[o + 12] = ((hl >> 2) << 4) | ((r.flags >> 8) & 0x0f);
  b[o + 13] = r.flags & 0xff;
  writeU16(b, o + 14, r.window);
  writeU16(b, o + 16, 0);
  writeU16(b, o + 18, r.urgent ?? 0);
  writeOptions(b, o + TCP_HLEN, r.options);
  const sum = checksumAdd(pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, hl + payloadLen), b, o, hl + payloadLen);
  writeU16(b, o + 16, checksumFinish(sum));
  return hl;
}

export function tcpChecksumOk(b: Uint8Array, o: number, len: number, srcIp: Ipv4, dstIp: Ipv4): boolean {
  return checksumFinish(checksumAdd(pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len), b, o, len)) === 0;
}

export function tcpSrcPort(b: Uint8Array, o: number): number {
  return readU16(b, o);
}

export function tcpDstPort(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}

export function tcpFlags(b: Uint8Array, o: number): number {
  return ((b[o + 12]! & 0x0f) << 8) | b[o + 13]!;
}

const FLAG_LETTERS: [number, string][] = [
  [TCP_FIN, 'F'],
  [TCP_SYN, 'S'],
  [TCP_RST, 'R'],
  [TCP_PSH, 'P'],
  [TCP_ACK, '.'],
  [TCP_URG, 'U'],
  [TCP_ECE, 'E'],
  [TCP_CWR, 'W'],
  [TCP_AE, 'e'],
];

/** tcpdump's flag letters in its order (F S R P . U E W e), bracketed: "[S.]", "[none]" for no flag. */
export function tcpFlagsString(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) s += letter;
  return `[${s || 'none'}]`;
}
