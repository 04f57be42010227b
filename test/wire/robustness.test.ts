// Truncated and garbage input: a parser either returns a record or throws WireError, never anything else, and
// describeFrame always returns a line.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseArp } from '../../src/wire/arp.js';
import { describeFrame } from '../../src/wire/describe.js';
import { WireError } from '../../src/wire/errors.js';
import { parseEth } from '../../src/wire/ethernet.js';
import { parseIcmp } from '../../src/wire/icmp.js';
import { parseIpv4Header } from '../../src/wire/ipv4.js';
import { parseTcp } from '../../src/wire/tcp.js';
import { parseUdp } from '../../src/wire/udp.js';
import { parseVxlan } from '../../src/wire/vxlan.js';
import { loadFixtures } from './fixtures.js';

/** Runs f; returns 'ok' or 'wire' (a WireError), and fails the test on any other exception. */
function outcome(f: () => unknown): 'ok' | 'wire' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof WireError) {
      expect(e.layer).toMatch(/^[a-z0-9]+$/);
      return 'wire';
    }
    throw e;
  }
}

function parseAll(b: Uint8Array, o: number, len: number): void {
  outcome(() => parseEth(b, o));
  outcome(() => parseArp(b, o));
  outcome(() => parseIpv4Header(b, o));
  outcome(() => parseIpv4Header(b, o, len));
  outcome(() => parseIcmp(b, o, len));
  outcome(() => parseUdp(b, o));
  outcome(() => parseUdp(b, o, len));
  outcome(() => parseTcp(b, o, len));
  outcome(() => parseVxlan(b, o));
}

const fixtures = loadFixtures();

describe('garbage in', () => {
  it('parsers return or throw WireError on random bytes, offsets and lengths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.integer({ min: -4, max: 130 }),
        fc.integer({ min: -4, max: 130 }),
        (b, o, len) => parseAll(b, o, len),
      ),
      { numRuns: 5000 },
    );
  });

  it('describeFrame returns a line for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const text = describeFrame(b);
        expect(text.length).toBeGreaterThan(0);
        expect(text).not.toContain('\n');
      }),
      { numRuns: 5000 },
    );
  });

  it('describeFrame returns a line for captured frames with bytes changed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (f, edits) => {
          const b = f.bytes.slice();
          for (const [at, v] of edits) b[at % b.length] = v;
          expect(describeFrame(b).length).toBeGreaterThan(0);
          parseAll(b, 14, b.length - 14);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('truncated captured frames', () => {
  it('every prefix of every frame: parsers return or throw WireError, describeFrame returns a line', () => {
    for (const f of fixtures) {
      for (let cut = 0; cut < f.bytes.length; cut++) {
        const b = f.bytes.subarray(0, cut);
        const text = describeFrame(b);
        expect(text.length).toBeGreaterThan(0);
        parseAll(b, 14, cut - 14);
        parseAll(b, 34, cut - 34);
        // A cut inside the IPv4 packet is always reported as truncated, never parsed as whole.
        if (cut >= 14 && f.bytes[12] === 0x08 && f.bytes[13] === 0x00) {
          expect(outcome(() => parseIpv4Header(b, 14))).toBe('wire');
        }
      }
    }
  });

  it('describeFrame(b, o, len) stays inside b whatever o and len say', () => {
    const f = fixtures[0]!;
    for (const [o, len] of [
      [0, 1000],
      [-5, 10],
      [f.bytes.length + 3, 10],
      [3, -1],
    ] as const) {
      expect(describeFrame(f.bytes, o, len).length).toBeGreaterThan(0);
    }
  });
});
