// `conntrack -L` as Linux printed it for two runs of real traffic through a router (MASQUERADE, DNAT, an SNAT
// address range, an SNAT port range), rebuilt here by driving the same traffic through the emulator. Timeouts
// match exactly (the listing is taken the same number of seconds after the traffic); only `use=` (Linux counts
// packets queued for ARP) and source ports Linux picked at random are normalised.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  conntrackFlushSummary,
  conntrackSummary,
  formatConntrackLines,
  formatConntrackList,
} from '../../src/iptables/conntrack/index.js';
import { NS_PER_S } from '../../src/sim/events.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { icmpEcho, icmpError, ip, Router, range, rawIp, tcp, udp } from './conntrack-packets.js';

interface Run {
  conntrackL: string[];
  stderr: string;
}

const FIX = JSON.parse(
  readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conntrack', 'list-formats.json'),
    'utf8',
  ),
) as {
  run1: Run;
  run2: Run & {
    deleteOrigDst: { stderr: string };
    deleteReplySrc: { stderr: string };
    flushStderr: string;
    emptyListStderr: string;
  };
};

const SYN_OPTS = { mss: 1460, sackPerm: true, wscale: 7 };

function lab(): Router {
  const r = new Router({ ra: '10.99.0.254/24', rb: '10.98.0.254/24' });
  r.dnat = (skb) => {
    const b = skb.buf;
    const nh = skb.nh;
    const dst = ((b[nh + 16]! << 24) | (b[nh + 17]! << 16) | (b[nh + 18]! << 8) | b[nh + 19]!) >>> 0;
    if (dst === ip('10.99.0.254') && b[nh + 9] === 6 && ((b[nh + 22]! << 8) | b[nh + 23]!) === 8080)
      return { kind: 'DNAT', range: range({ minIp: ip('10.98.0.2'), minPort: 80 }) };
    return null;
  };
  r.snat = (skb, { outDev }) => {
    if (outDev?.name !== 'rb') return null;
    const b = skb.buf;
    const nh = skb.nh;
    const dport = (b[nh + 22]! << 8) | b[nh + 23]!;
    if (b[nh + 9] === 17 && dport === 7001)
      return { kind: 'SNAT', range: range({ minIp: ip('10.98.0.240'), minPort: 2000, maxPort: 2001 }) };
    if (b[nh + 9] === 17 && dport === 7000)
      return { kind: 'SNAT', range: range({ minIp: ip('10.98.0.250'), maxIp: ip('10.98.0.253') }) };
    return { kind: 'MASQUERADE', range: range({}) };
  };
  return r;
}

/** A client's handshake through the router; the server's side is addressed as the router rewrote it. */
function handshake(r: Router, src: string, sport: number, dst: string, dport: number): { port: number } {
  const syn = tcp({ src, dst, sport, dport, flags: TCP_SYN, seq: 1000, options: SYN_OPTS });
  expect(r.forward(syn, 'ra', 'rb').verdict).toBe('accept');
  const b = syn.buf;
  const natSrc = `${b[syn.nh + 12]}.${b[syn.nh + 13]}.${b[syn.nh + 14]}.${b[syn.nh + 15]}`;
  const natDst = `${b[syn.nh + 16]}.${b[syn.nh + 17]}.${b[syn.nh + 18]}.${b[syn.nh + 19]}`;
  const port = (b[syn.th]! << 8) | b[syn.th + 1]!;
  const serverPort = (b[syn.th + 2]! << 8) | b[syn.th + 3]!;
  const synack = tcp({
    src: natDst,
    dst: natSrc,
    sport: serverPort,
    dport: port,
    flags: TCP_SYN | TCP_ACK,
    seq: 5000,
    ack: 1001,
    options: SYN_OPTS,
  });
  expect(r.forward(synack, 'rb', 'ra').verdict).toBe('accept');
  const ack = tcp({ src, dst, sport, dport, flags: TCP_ACK, seq: 1001, ack: 5001, win: 502 });
  expect(r.forward(ack, 'ra', 'rb').verdict).toBe('accept');
  return { port };
}

/** Normalises what legitimately differs: `use=`, and a source port NAT chose at random (not the original). */
function normalise(line: string): string {
  let l = line.replace(/use=\d+$/, 'use=N');
  const m = /sport=(\d+) dport=\d+ .*src=\S+ dst=\S+ sport=\d+ dport=(\d+)/.exec(l);
  if (m && m[1] !== m[2] && Number(m[2]) >= 1024 && !(Number(m[2]) >= 2000 && Number(m[2]) <= 2001))
    l = l.replace(new RegExp(`dport=${m[2]} (\\[|mark)`), 'dport=RANDOM $1');
  return l;
}

describe('conntrack -L lines as Linux prints them', () => {
  it('run 1: masquerade clash, DNAT, UDP answered and not, ICMP echo', () => {
    const r = lab();
    r.t = 0;
    handshake(r, '10.99.0.1', 40000, '10.98.0.2', 80);
    const second = handshake(r, '10.99.0.2', 40000, '10.98.0.2', 80);
    expect(second.port).not.toBe(40000);
    expect(second.port).toBeGreaterThanOrEqual(1024);
    handshake(r, '10.99.0.1', 40001, '10.99.0.254', 8080);
    const q = udp('10.99.0.1', '10.98.0.2', 5353, 53);
    r.forward(q, 'ra', 'rb');
    r.forward(udp('10.98.0.2', '10.98.0.254', 53, 5353), 'rb', 'ra');
    const closed = udp('10.99.0.1', '10.98.0.2', 5354, 9999);
    r.forward(closed, 'ra', 'rb');
    const err = icmpError('10.98.0.2', '10.98.0.254', 3, 3, closed);
    expect(r.forward(err, 'rb', 'ra').res.state).toBe('RELATED');
    r.forward(udp('10.99.0.1', '10.98.0.9', 5355, 9999), 'ra', 'rb');
    r.forward(icmpEcho('10.99.0.1', '10.98.0.2', 8, 19407), 'ra', 'rb');
    r.forward(icmpEcho('10.98.0.2', '10.98.0.254', 0, 19407), 'rb', 'ra');
    r.t = 3 * NS_PER_S;
    const ours = formatConntrackList(r.ct).trimEnd().split('\n');
    expect(ours.map(normalise).sort()).toEqual(FIX.run1.conntrackL.map(normalise).sort());
    expect(conntrackSummary(ours.length, 'shown')).toBe(FIX.run1.stderr);
  });

  it('run 2: TIME_WAIT, RST, SYN_SENT, SNAT address and port ranges, an unknown protocol', () => {
    const r = lab();
    r.t = 0;
    // 41000: the server closes first.
    handshake(r, '10.99.0.1', 41000, '10.98.0.2', 80);
    const fwd = (s: Parameters<typeof tcp>[0], dir: 'out' | 'back') =>
      r.forward(tcp(s), dir === 'out' ? 'ra' : 'rb', dir === 'out' ? 'rb' : 'ra');
    const c = { src: '10.99.0.1', dst: '10.98.0.2', sport: 41000, dport: 80 };
    const s = { src: '10.98.0.2', dst: '10.98.0.254', sport: 80, dport: 41000 };
    fwd({ ...c, flags: TCP_ACK | TCP_PSH, seq: 1001, ack: 5001, win: 502, payload: new Uint8Array(5) }, 'out');
    fwd({ ...s, flags: TCP_ACK, seq: 5001, ack: 1006, win: 502 }, 'back');
    fwd({ ...s, flags: TCP_FIN | TCP_ACK, seq: 5001, ack: 1006, win: 502 }, 'back');
    fwd({ ...c, flags: TCP_ACK, seq: 1006, ack: 5002, win: 502 }, 'out');
    fwd({ ...c, flags: TCP_FIN | TCP_ACK, seq: 1006, ack: 5002, win: 502 }, 'out');
    fwd({ ...s, flags: TCP_ACK, seq: 5002, ack: 1007, win: 502 }, 'back');
    // 41001: refused.
    fwd(
      { src: '10.99.0.1', dst: '10.98.0.2', sport: 41001, dport: 81, flags: TCP_SYN, seq: 7000, options: SYN_OPTS },
      'out',
    );
    const rst = fwd(
      { src: '10.98.0.2', dst: '10.98.0.254', sport: 81, dport: 41001, flags: TCP_RST | TCP_ACK, ack: 7001, win: 0 },
      'back',
    );
    expect(rst.res.state).toBe('ESTABLISHED');
    // 41002: nobody answers.
    fwd(
      { src: '10.99.0.1', dst: '10.98.0.77', sport: 41002, dport: 80, flags: TCP_SYN, seq: 9000, options: SYN_OPTS },
      'out',
    );
    for (let i = 1; i <= 10; i++) {
      expect(r.forward(udp(`10.99.0.${i}`, '10.98.0.2', 6000, 7000), 'ra', 'rb').verdict).toBe('accept');
      expect(r.forward(udp(`10.99.0.${i}`, '10.98.0.3', 6000, 7000), 'ra', 'rb').verdict).toBe('accept');
    }
    const verdicts = [1, 2, 3].map((i) => r.forward(udp(`10.99.0.${i}`, '10.98.0.2', 6001, 7001), 'ra', 'rb').verdict);
    expect(verdicts).toEqual(['accept', 'accept', 'drop']);
    r.forward(rawIp('10.99.0.1', '10.98.0.2', 253), 'ra', 'rb');
    r.t = 2 * NS_PER_S;
    const entries = r.ct.entries();
    const ours = formatConntrackLines(entries, r.t).trimEnd().split('\n');
    expect(ours.map(normalise).sort()).toEqual(FIX.run2.conntrackL.map(normalise).sort());
    expect(conntrackSummary(ours.length, 'shown')).toBe(FIX.run2.stderr);
    // A client that got a new port to one server keeps it for the other (find_appropriate_src), as in Linux.
    for (let i = 1; i <= 10; i++) {
      const mine = entries.filter((e) => e.original.src === ip(`10.99.0.${i}`) && e.original.dport === 7000);
      expect(mine.length).toBe(2);
      expect(mine[0]!.reply.dport).toBe(mine[1]!.reply.dport);
      expect(mine[0]!.reply.dst).toBe(mine[1]!.reply.dst);
    }

    const byOrigDst = r.ct.deleteWhere({ proto: 17, origDst: ip('10.98.0.3') });
    expect(conntrackSummary(byOrigDst.length, 'deleted')).toBe(FIX.run2.deleteOrigDst.stderr);
    const byReplySrc = r.ct.deleteWhere({ proto: 17, replySrc: ip('10.98.0.2') });
    expect(conntrackSummary(byReplySrc.length, 'deleted')).toBe(FIX.run2.deleteReplySrc.stderr);
    expect(r.ct.count()).toBe(3);
    r.ct.flush();
    expect(conntrackFlushSummary()).toBe(FIX.run2.flushStderr);
    expect(formatConntrackList(r.ct)).toBe('');
    expect(conntrackSummary(0, 'shown')).toBe(FIX.run2.emptyListStderr);
  });
});
