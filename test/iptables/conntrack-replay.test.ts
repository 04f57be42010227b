// Replays traffic captured on a real Linux router (MASQUERADE out of rb, DNAT of 10.99.0.254:8080/tcp and
// :8053/udp) through the emulator's conntrack and NAT: every packet the router received must leave with exactly
// the bytes Linux sent (addresses, ports, IP/TCP/UDP/ICMP checksums, the quoted header of ICMP errors), and the
// table must list what `conntrack -L` listed (timeouts aside).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatConntrackList } from '../../src/iptables/conntrack/index.js';
import { NS_PER_S } from '../../src/sim/events.js';
import { fromHex, toHex } from '../wire/fixtures.js';
import { badChecksums, bytesOf, fromBytes, ip, Router, range } from './conntrack-packets.js';

interface Captured {
  t: number;
  dev: 'ra' | 'rb';
  dir: 'in' | 'out';
  hex: string;
}

const FIX = JSON.parse(
  readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conntrack', 'router-replay.json'),
    'utf8',
  ),
) as { packets: Captured[]; conntrackL: string[] };

function router(): Router {
  const r = new Router({ ra: '10.99.0.254/24', rb: '10.98.0.254/24' });
  r.dnat = (skb) => {
    const b = skb.buf;
    const nh = skb.nh;
    const dst = (b[nh + 16]! << 24) | (b[nh + 17]! << 16) | (b[nh + 18]! << 8) | b[nh + 19]!;
    if (dst >>> 0 !== ip('10.99.0.254')) return null;
    const proto = b[nh + 9];
    const dport = (b[nh + 22]! << 8) | b[nh + 23]!;
    if (proto === 17 && dport === 8053)
      return { kind: 'DNAT', range: range({ minIp: ip('10.98.0.2'), minPort: 9999 }) };
    if (proto === 6 && dport === 8080) return { kind: 'DNAT', range: range({ minIp: ip('10.98.0.2'), minPort: 80 }) };
    return null;
  };
  r.snat = (_skb, { outDev }) => (outDev?.name === 'rb' ? { kind: 'MASQUERADE', range: range({}) } : null);
  return r;
}

function normaliseTimeout(line: string): string {
  return line.replace(/^(\S+\s+\d+ )\d+ /, '$1T ');
}

describe('conntrack + NAT replaying a real router', () => {
  const r = router();
  const ins = FIX.packets.filter((p) => p.dir === 'in');
  const outs = {
    ra: FIX.packets.filter((p) => p.dir === 'out' && p.dev === 'ra'),
    rb: FIX.packets.filter((p) => p.dir === 'out' && p.dev === 'rb'),
  };
  const next = { ra: 0, rb: 0 };
  const results: { i: number; state: string; dir: string; got: string; want: string }[] = [];
  for (const [i, p] of ins.entries()) {
    r.t = Math.round(p.t * NS_PER_S);
    const skb = fromBytes(fromHex(p.hex));
    const outDev = p.dev === 'ra' ? 'rb' : 'ra';
    const { res, verdict } = r.forward(skb, p.dev, outDev);
    const want = outs[outDev][next[outDev]++]!;
    results.push({
      i,
      state: `${res.state}/${res.dir}`,
      dir: verdict,
      got: toHex(bytesOf(skb)),
      want: want.hex,
    });
  }

  it('forwards every received packet with the bytes Linux sent', () => {
    expect(ins.length).toBe(30);
    for (const x of results) {
      expect(x.dir, `packet ${x.i}`).toBe('accept');
      expect(x.got, `packet ${x.i} (${x.state})`).toBe(x.want);
    }
  });

  it('classifies the packets like Linux', () => {
    const states = results.map((x) => x.state);
    // SYN NEW, SYN/ACK the first reply, the rest ESTABLISHED.
    expect(states.slice(0, 3)).toEqual(['NEW/ORIGINAL', 'ESTABLISHED/REPLY', 'ESTABLISHED/ORIGINAL']);
    // The two port-unreachable errors are RELATED to their UDP flows, in the reply direction.
    expect(states.filter((s) => s === 'RELATED/REPLY').length).toBe(2);
    expect(states.filter((s) => s === 'INVALID/ORIGINAL').length).toBe(0);
  });

  it('leaves every checksum valid', () => {
    for (const x of results) expect(badChecksums(fromHex(x.got)), `packet ${x.i}`).toEqual([]);
  });

  it('lists the entries conntrack -L listed', () => {
    r.t = Math.round((FIX.packets.at(-1)!.t + 1.5) * NS_PER_S);
    const ours = formatConntrackList(r.ct).trimEnd().split('\n').map(normaliseTimeout).sort();
    const theirs = FIX.conntrackL.map(normaliseTimeout).sort();
    expect(ours).toEqual(theirs);
  });
});
