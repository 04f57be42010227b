// The Internet checksum and its incremental forms. The incremental ones are checked two ways: against a full
// recomputation (they must give the very same 16 bits for any header with a non-zero word, as real headers have),
// and against a literal transcription of the kernel's csum_replace2/csum_replace4/ip_decrease_ttl as they run on
// a little-endian machine, where the __be16/__be32 values are byte-swapped integers.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU16, readU32, writeU16, writeU32 } from '../../src/wire/addr.js';
import {
  checksumAdd,
  checksumFinish,
  checksumReplace16,
  checksumReplace32,
  internetChecksum,
  pseudoHeaderSum,
} from '../../src/wire/checksum.js';
import { WireError } from '../../src/wire/errors.js';
import { emitIpv4Header, ipDecreaseTtl, ipHeaderChecksumOk, ipSetDst, ipSetSrc } from '../../src/wire/ipv4.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.tuple(u16, u16).map(([h, l]) => h * 0x10000 + l);

/** Reference: sum of 16-bit words with BigInt, folded at the very end. */
function referenceChecksum(b: Uint8Array): number {
  let s = 0n;
  for (let i = 0; i < b.length; i += 2) s += BigInt((b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0));
  while (s > 0xffffn) s = (s & 0xffffn) + (s >> 16n);
  return Number(~s & 0xffffn);
}

// --- the kernel's code on little-endian x86, transcribed ---
const swab16 = (x: number): number => ((x & 0xff) << 8) | (x >>> 8);
const swab32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
/** include/net/checksum.h csum16_add on u16. */
function kCsum16Add(csum: number, addend: number): number {
  let res = (csum + addend) & 0xffff;
  res = (res + (res < addend ? 1 : 0)) & 0xffff;
  return res;
}
/** csum_add on u32. */
function kCsumAdd(csum: number, addend: number): number {
  let res = (csum + addend) >>> 0;
  res = (res + (res < addend ? 1 : 0)) >>> 0;
  return res;
}
/** asm-generic csum_fold: (~sum - ror32(sum, 16)) >> 16. */
function kCsumFold(sum: number): number {
  const ror = ((sum >>> 16) | (sum << 16)) >>> 0;
  return ((((~sum >>> 0) - ror) >>> 0) >>> 16) & 0xffff;
}
/** csum_replace2 with the field values as stored in memory (big-endian), run on a little-endian CPU. */
function kernelReplace2(stored: number, oldBe: number, newBe: number): number {
  const sum = swab16(stored);
  const r = ~kCsum16Add(kCsum16Add(~sum & 0xffff, ~swab16(oldBe) & 0xffff), swab16(newBe)) & 0xffff;
  return swab16(r);
}
function kernelReplace4(stored: number, oldBe: number, newBe: number): number {
  const sum = swab16(stored);
  const tmp = kCsumAdd(~sum >>> 0, ~swab32(oldBe) >>> 0);
  return swab16(kCsumFold(kCsumAdd(tmp, swab32(newBe))));
}
/** ip_decrease_ttl: check += htons(0x0100); check + (check >= 0xFFFF). */
function kernelDecreaseTtl(stored: number): number {
  let check = swab16(stored);
  check += swab16(0x0100);
  return swab16((check + (check >= 0xffff ? 1 : 0)) & 0xffff);
}

describe('internet checksum', () => {
  it('gives RFC 1071 section 3 example', () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(checksumAdd(0, b, 0, 8) % 0xffff).toBe(0xddf2 % 0xffff);
    expect(internetChecksum(b, 0, 8)).toBe(~0xddf2 & 0xffff);
  });

  it('pads an odd trailing byte with zero', () => {
    const b = Uint8Array.from([0x12, 0x34, 0x56]);
    expect(internetChecksum(b, 0, 3)).toBe(~(0x1234 + 0x5600) & 0xffff);
  });

  it('agrees with a BigInt reference for any data up to 64 KiB', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), (b) => {
        expect(internetChecksum(b, 0, b.length)).toBe(referenceChecksum(b));
      }),
    );
    for (const fill of [0xff, 0xfe, 0x80]) {
      const big = new Uint8Array(65535).fill(fill);
      expect(internetChecksum(big, 0, big.length)).toBe(referenceChecksum(big));
    }
  });

  it('adds up across calls split at even offsets, and across many 64 KiB chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 600 }), fc.nat(), (b, cut) => {
        const at = (cut % b.length) & ~1;
        const split = checksumFinish(checksumAdd(checksumAdd(0, b, 0, at), b, at, b.length - at));
        expect(split).toBe(internetChecksum(b, 0, b.length));
      }),
    );
    const big = new Uint8Array(65536).fill(0xff);
    let sum = 0;
    for (let i = 0; i < 1000; i++) sum = checksumAdd(sum, big, 0, big.length);
    expect(Number.isSafeInteger(sum)).toBe(true);
    expect(checksumFinish(sum)).toBe(0);
  });

  it('refuses a range outside the buffer', () => {
    expect(() => checksumAdd(0, new Uint8Array(4), 2, 4)).toThrow(WireError);
    expect(() => checksumAdd(0, new Uint8Array(4), -1, 2)).toThrow(WireError);
  });

  it('sums the pseudo-header as RFC 768 lays it out', () => {
    const ph = new Uint8Array(12);
    writeU32(ph, 0, 0x0a4d0101);
    writeU32(ph, 4, 0x0a4d0201);
    ph[9] = 17;
    writeU16(ph, 10, 13);
    expect(checksumFinish(pseudoHeaderSum(0x0a4d0101, 0x0a4d0201, 17, 13))).toBe(internetChecksum(ph, 0, 12));
  });
});

describe('incremental update (RFC 1624)', () => {
  it('checksumReplace16 is csum_replace2 bit for bit', () => {
    fc.assert(
      fc.property(u16, u16, u16, (c, a, b) => {
        expect(checksumReplace16(c, a, b)).toBe(kernelReplace2(c, a, b));
      }),
      { numRuns: 20000 },
    );
  });

  it('checksumReplace32 is csum_replace4 bit for bit', () => {
    fc.assert(
      fc.property(u16, u32, u32, (c, a, b) => {
        expect(checksumReplace32(c, a, b)).toBe(kernelReplace4(c, a, b));
      }),
      { numRuns: 20000 },
    );
    for (const c of [0, 0xffff, 0xfffe, 1])
      for (const a of [0, 0xffffffff, 0xffff0000])
        for (const b of [0, 0xffffffff, 0x0000ffff]) expect(checksumReplace32(c, a, b)).toBe(kernelReplace4(c, a, b));
  });

  const header = fc
    .tuple(fc.uint8Array({ minLength: 20, maxLength: 60 }), fc.nat())
    .map(([raw, k]) => {
      const b = raw.slice(0, raw.length & ~3);
      b[0] = 0x45; // a fixed non-zero word, as every real header has
      return { b, word: 2 * (k % (b.length / 2)) };
    })
    .filter(({ word }) => word !== 10 && word !== 12 && word !== 14);

  it('checksumReplace16 gives exactly the full recomputation', () => {
    fc.assert(
      fc.property(header, u16, ({ b, word }, v) => {
        writeU16(b, 10, 0);
        writeU16(b, 10, internetChecksum(b, 0, b.length));
        const old = readU16(b, word);
        writeU16(b, word, v);
        const incremental = checksumReplace16(readU16(b, 10), old, v);
        writeU16(b, 10, 0);
        expect(incremental).toBe(internetChecksum(b, 0, b.length));
      }),
      { numRuns: 5000 },
    );
  });

  it('checksumReplace32 gives exactly the full recomputation', () => {
    fc.assert(
      fc.property(header, u32, ({ b, word }, v) => {
        const at = word === b.length - 2 ? 12 : word; // keep the 32-bit field inside the header
        if (at <= 10 && at + 4 > 10) return;
        writeU16(b, 10, 0);
        writeU16(b, 10, internetChecksum(b, 0, b.length));
        const old = readU32(b, at);
        writeU32(b, at, v);
        const incremental = checksumReplace32(readU16(b, 10), old, v);
        writeU16(b, 10, 0);
        expect(incremental).toBe(internetChecksum(b, 0, b.length));
      }),
      { numRuns: 5000 },
    );
  });

  it('updating a word to itself changes nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfffe }), u16, (c, v) => {
        expect(checksumReplace16(c, v, v)).toBe(c);
      }),
    );
  });
});

const ipHeader = fc.record({
  tos: fc.integer({ min: 0, max: 255 }),
  totalLength: fc.integer({ min: 20, max: 20 }),
  id: u16,
  df: fc.boolean(),
  mf: fc.boolean(),
  fragOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8),
  ttl: fc.integer({ min: 1, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  src: u32,
  dst: u32,
  options: fc.constant(new Uint8Array(0)),
});

describe('IPv4 header rewrites', () => {
  it('ipDecreaseTtl is ip_decrease_ttl for every possible stored checksum', () => {
    const b = new Uint8Array(20);
    for (let c = 0; c <= 0xffff; c++) {
      writeU16(b, 10, c);
      b[8] = 64;
      ipDecreaseTtl(b, 0);
      if (readU16(b, 10) !== kernelDecreaseTtl(c)) expect(readU16(b, 10)).toBe(kernelDecreaseTtl(c));
      expect(b[8]).toBe(63);
    }
  });

  it('ipDecreaseTtl leaves the checksum a full recomputation would write', () => {
    fc.assert(
      fc.property(ipHeader, (r) => {
        const b = new Uint8Array(20);
        emitIpv4Header(b, 0, r);
        ipDecreaseTtl(b, 0);
        expect(b[8]).toBe(r.ttl - 1);
        const inc = readU16(b, 10);
        writeU16(b, 10, 0);
        expect(inc).toBe(internetChecksum(b, 0, 20));
      }),
    );
  });

  it('ipSetSrc and ipSetDst keep the header checksum exact', () => {
    fc.assert(
      fc.property(ipHeader, u32, u32, (r, s, d) => {
        const b = new Uint8Array(20);
        emitIpv4Header(b, 0, r);
        ipSetSrc(b, 0, s);
        ipSetDst(b, 0, d);
        expect([readU32(b, 12), readU32(b, 16)]).toEqual([s, d]);
        expect(ipHeaderChecksumOk(b, 0)).toBe(true);
        const inc = readU16(b, 10);
        writeU16(b, 10, 0);
        expect(inc).toBe(internetChecksum(b, 0, 20));
      }),
    );
  });
});
