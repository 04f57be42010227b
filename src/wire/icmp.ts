// ICMP for IPv4 (RFC 792, RFC 1191 for "fragmentation needed"). The header is 8 bytes: type, code, checksum and
// four bytes whose meaning depends on the type (echo id and sequence, next-hop MTU, gateway, pointer), kept
// whole as `rest`. The checksum covers the whole ICMP message, no pseudo-header.
// Error messages quote the offending packet the way icmp_send does: Linux caps the whole error at 576 bytes
// (RFC 1812 4.3.2.3), leaving 576 − 20 (IP header) − 8 (ICMP header) = 548 bytes of quote when the error carries
// no IP options. Captured on Linux 6.x: a 1028-byte UDP datagram to a closed port gets a 576-byte error.
// Words for types and codes are tcpdump's (print-icmp.c); describe.ts adds the addresses tcpdump puts in them.

import { readU16, readU32, writeU16, writeU32 } from './addr.js';
import { internetChecksum } from './checksum.js';
import { need, WireError } from './errors.js';

export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_HLEN = 8;

export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
export const ICMP_NET_UNKNOWN = 6;
export const ICMP_HOST_UNKNOWN = 7;
export const ICMP_HOST_ISOLATED = 8;
export const ICMP_NET_ANO = 9;
export const ICMP_HOST_ANO = 10;
export const ICMP_NET_UNR_TOS = 11;
export const ICMP_HOST_UNR_TOS = 12;
export const ICMP_PKT_FILTERED = 13;
export const ICMP_PREC_VIOLATION = 14;
export const ICMP_PREC_CUTOFF = 15;

export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

/** Largest quote of the offending packet in an ICMP error sent by Linux (icmp_send: 576 − 20 − 8). */
export const ICMP_ERROR_QUOTE_MAX = 548;

export interface IcmpRepr {
  type: number;
  code: number;
  checksum: number;
  /** The 4 bytes after the checksum, as a big-endian uint32. */
  rest: number;
  payload: Uint8Array;
}

export function parseIcmp(b: Uint8Array, o: number, len: number): IcmpRepr {
  if (len < ICMP_HLEN) throw new WireError('icmp', `ICMP message of ${len} bytes is shorter than the 8-byte header`);
  need(b, o, len, 'icmp', 'message');
  return {
    type: b[o]!,
    code: b[o + 1]!,
    checksum: readU16(b, o + 2),
    rest: readU32(b, o + 4),
    payload: b.slice(o + ICMP_HLEN, o + len),
  };
}

/** Writes the header in front of a payload already at o+8 and checksums the whole message b[o, o+totalLen). */
export function emitIcmpHeader(
  b: Uint8Array,
  o: number,
  type: number,
  code: number,
  rest: number,
  totalLen: number,
): void {
  if (totalLen < ICMP_HLEN) throw new WireError('icmp', `ICMP message of ${totalLen} bytes is shorter than the header`);
  need(b, o, totalLen, 'icmp', 'message');
  b[o] = type & 0xff;
  b[o + 1] = code & 0xff;
  writeU16(b, o + 2, 0);
  writeU32(b, o + 4, rest >>> 0);
  writeU16(b, o + 2, internetChecksum(b, o, totalLen));
}

export function icmpType(b: Uint8Array, o: number): number {
  return b[o]!;
}

export function icmpCode(b: Uint8Array, o: number): number {
  return b[o + 1]!;
}

export function icmpEchoId(b: Uint8Array, o: number): number {
  return readU16(b, o + 4);
}

export function icmpEchoSeq(b: Uint8Array, o: number): number {
  return readU16(b, o + 6);
}

/** Next-hop MTU of a "fragmentation needed" error (RFC 1191): the low 16 bits of `rest`. */
export function icmpNextHopMtu(b: Uint8Array, o: number): number {
  return readU16(b, o + 6);
}

export function icmpChecksumOk(b: Uint8Array, o: number, len: number): boolean {
  return internetChecksum(b, o, len) === 0;
}

/** True for the types that quote an offending packet (and that must never be sent about another error). */
export function icmpIsError(type: number): boolean {
  return (
    type === ICMP_DEST_UNREACH ||
    type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAMETERPROB
  );
}

/** Bytes of the offending IP packet (header included) that Linux quotes in an ICMP error. */
export function icmpErrorQuoteLen(origIpLen: number): number {
  return Math.max(0, Math.min(origIpLen, ICMP_ERROR_QUOTE_MAX));
}

const TYPE_WORDS: Record<number, string> = {
  0: 'echo reply',
  4: 'source quench',
  8: 'echo request',
  10: 'router solicitation',
  13: 'time stamp request',
  14: 'time stamp reply',
  15: 'information request',
  16: 'information reply',
  17: 'address mask request',
  18: 'address mask reply',
};

const UNREACH_WORDS: Record<number, string> = {
  [ICMP_NET_UNREACH]: 'net unreachable',
  [ICMP_HOST_UNREACH]: 'host unreachable',
  [ICMP_PROT_UNREACH]: 'protocol unreachable',
  [ICMP_PORT_UNREACH]: 'port unreachable',
  [ICMP_FRAG_NEEDED]: 'unreachable - need to frag',
  [ICMP_SR_FAILED]: 'unreachable - source route failed',
  [ICMP_NET_UNKNOWN]: 'net unreachable - unknown',
  [ICMP_HOST_UNKNOWN]: 'host unreachable - unknown',
  [ICMP_HOST_ISOLATED]: 'unreachable - source host isolated',
  [ICMP_NET_ANO]: 'net unreachable - admin prohibited',
  [ICMP_HOST_ANO]: 'host unreachable - admin prohibited',
  [ICMP_NET_UNR_TOS]: 'net unreachable - tos prohibited',
  [ICMP_HOST_UNR_TOS]: 'host unreachable - tos prohibited',
  [ICMP_PKT_FILTERED]: 'host unreachable - admin prohibited filter',
  [ICMP_PREC_VIOLATION]: 'host unreachable - host precedence violation',
  [ICMP_PREC_CUTOFF]: 'host unreachable - precedence cutoff',
};

const REDIRECT_WORDS = ['redirect to net', 'redirect to host', 'redirect-tos to net', 'redirect-tos to host'];

/**
 * tcpdump's words for a type and code, without the addresses and ports it takes from the quoted packet
 * ("host 10.0.0.9 unreachable" here is "host unreachable"; describeFrame prints the full form).
 */
export function icmpTypeName(type: number, code: number): string {
  switch (type) {
    case ICMP_DEST_UNREACH:
      return UNREACH_WORDS[code] ?? `unreachable - #${code}`;
    case ICMP_REDIRECT:
      return REDIRECT_WORDS[code] ?? `redirect-#${code}`;
    case ICMP_TIME_EXCEEDED:
      if (code === ICMP_EXC_TTL) return 'time exceeded in-transit';
      if (code === ICMP_EXC_FRAGTIME) return 'ip reassembly time exceeded';
      return `time exceeded-#${code}`;
    case ICMP_PARAMETERPROB:
      return code === 0 ? 'parameter problem' : `parameter problem - code ${code}`;
    default:
      return TYPE_WORDS[type] ?? `type-#${type}`;
  }
}
