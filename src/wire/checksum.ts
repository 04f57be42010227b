// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), computed the way Linux does.
// checksumAdd keeps an unfolded running sum like the kernel's csum_partial, so pseudo-header, header and payload
// sums can be added before one final fold. checksumReplace16/32 reproduce csum_replace2/csum_replace4 bit for
// bit, including which of the two ones' complement zeros (0x0000 or 0xffff) they produce: NAT rewrites and
// TTL decrements therefore leave the same bytes a real kernel would. Limit: only the last chunk given to
// checksumAdd may have odd length (the kernel rotates odd-offset blocks; nothing here needs that).

import type { Ipv4 } from './addr.js';
import { need } from './errors.js';

/** Adds the big-endian 16-bit words of b[off, off+len) (an odd last byte is padded with zero) to `sum`. */
export function checksumAdd(sum: number, b: Uint8Array, off: number, len: number): number {
  need(b, off, len, 'checksum', 'checksummed range');
  const end = off + (len & ~1);
  let s = sum;
  for (let i = off; i < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (len & 1) s += b[end]! << 8;
  // Partial fold keeps the residue mod 0xffff and stays exact however many 64 KiB chunks are added.
  if (s > 0xffffffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** Folds a running sum to 16 bits and complements it: the value to store in a header. */
export function checksumFinish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

export function internetChecksum(b: Uint8Array, off: number, len: number): number {
  return checksumFinish(checksumAdd(0, b, off, len));
}

/** Sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768, RFC 9293), not folded. */
export function pseudoHeaderSum(src: Ipv4, dst: Ipv4, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}

/** 16-bit ones' complement addition with end-around carry, as the kernel's csum16_add. */
function add16(a: number, b: number): number {
  const r = a + b;
  return (r & 0xffff) + (r >>> 16);
}

/** 32-bit ones' complement addition, as the kernel's csum_add. */
function add32(a: number, b: number): number {
  const r = a + b;
  return r > 0xffffffff ? r - 0xffffffff : r;
}

/** RFC 1624 eqn. 3 for a 16-bit field, as csum_replace2: ~(~HC + ~m + m'). */
export function checksumReplace16(csum: number, oldVal: number, newVal: number): number {
  const t = add16(~csum & 0xffff, ~oldVal & 0xffff);
  return ~add16(t, newVal & 0xffff) & 0xffff;
}

/** The same for a 32-bit field (an IPv4 address), as csum_replace4. */
export function checksumReplace32(csum: number, oldVal: number, newVal: number): number {
  // ~csum_unfold(sum): the complement of the zero-extended 16-bit value, i.e. 0xffff0000 | ~sum.
  const unfolded = (0xffff0000 | (~csum & 0xffff)) >>> 0;
  const tmp = add32(unfolded, ~oldVal >>> 0);
  let s = add32(tmp, newVal >>> 0);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
