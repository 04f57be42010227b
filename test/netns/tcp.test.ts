// TCP and UDP on the wire: the SYN and SYN-ACK as Linux builds them (MSS from the route's mtu/advmss, window,
// options and their order, IP id and DF), the scaled window afterwards, the RST for a closed port, and ICMP port
// unreachable for UDP. Reference values: tools/kernel-lab/NOTES.md §4, §6, §7, re-checked with a real exchange
// between two namespaces (Linux 6.18).

import { describe, expect } from 'vitest';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { type CaseRun, cases, type IpFrame, icmpOf, ipFrames, type Listen, tcpOf } from './harness.js';

const PAIR = [
  'ip netns add a',
  'ip netns add b',
  'ip link add eth0 netns a type veth peer name eth0 netns b',
  'ip -n a addr add 10.0.0.1/24 dev eth0',
  'ip -n b addr add 10.0.0.2/24 dev eth0',
  'ip -n a link set eth0 up',
  'ip -n b link set eth0 up',
  'ip -n a link set lo up',
  'ip -n b link set lo up',
];
const LISTEN: Listen[] = [
  { ns: 'b', proto: 'tcp', port: 80, reply: 'served' },
  { ns: 'b', proto: 'udp', port: 53, reply: 'answer' },
];

/** TCP segments leaving `ns` on eth0, in order. */
function segs(r: CaseRun, ns: string): IpFrame[] {
  return ipFrames(r, { ns, dev: 'eth0', dir: 'tx' }).filter((f) => f.ip.protocol === 6);
}

function flagsOf(f: IpFrame): number {
  return tcpOf(f).flags;
}

/** The option bytes of a segment with the timestamp values zeroed (they are clock-derived). */
function optionBytes(f: IpFrame): number[] {
  const t = f.nh + f.ip.headerLength;
  const hl = tcpOf(f).headerLength;
  const o = [...f.frame.data.subarray(t + 20, t + hl)];
  const ts = o.findIndex((v, i) => v === 8 && o[i + 1] === 10);
  if (ts >= 0) o.fill(0, ts + 2, ts + 10);
  return o;
}

describe('TCP handshake', () => {
  cases([
    {
      name: 'SYN and SYN-ACK with Linux defaults; the window is scaled by 2^10 afterwards',
      setup: PAIR,
      listen: LISTEN,
      action: { tcp: { from: 'a', to: '10.0.0.2', port: 80, payload: 'hello' } },
      expect: { result: 'reachable', replyFrom: '10.0.0.2', replyTtl: 64 },
      check: (r) => {
        expect(r.probe.outcome.replyPayload).toBe('served');
        const [syn, ack, data] = segs(r, 'a');
        const synack = segs(r, 'b')[0]!;
        // SYN: win 64240, [mss 1460,sackOK,TS val … ecr 0,nop,wscale 10], 60 bytes, DF, TTL 64, tos 0.
        expect(flagsOf(syn!)).toBe(TCP_SYN);
        expect(tcpOf(syn!).window).toBe(64240);
        expect(tcpOf(syn!).options).toMatchObject({ mss: 1460, sackPerm: true, wscale: 10 });
        expect(tcpOf(syn!).options.timestamp![1]).toBe(0);
        expect(optionBytes(syn!)).toEqual([2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 10]);
        expect([syn!.ip.totalLength, syn!.ip.df, syn!.ip.ttl, syn!.ip.tos]).toEqual([60, true, 64, 0]);
        // SYN-ACK: win 65160, same options with ecr = the client's TS val, IP id 0, DF.
        expect(flagsOf(synack)).toBe(TCP_SYN | TCP_ACK);
        expect(tcpOf(synack).window).toBe(65160);
        expect(tcpOf(synack).ack).toBe((tcpOf(syn!).seq + 1) >>> 0);
        expect(tcpOf(synack).options).toMatchObject({ mss: 1460, sackPerm: true, wscale: 10 });
        expect(tcpOf(synack).options.timestamp![1]).toBe(tcpOf(syn!).options.timestamp![0]);
        expect([synack.ip.id, synack.ip.df]).toEqual([0, true]);
        // Then [.] and [P.] with [nop,nop,TS], windows 63 (client) and 64 (server) in units of 1024.
        expect(flagsOf(ack!)).toBe(TCP_ACK);
        expect(tcpOf(ack!).window).toBe(63);
        expect(optionBytes(ack!)).toEqual([1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0]);
        expect(flagsOf(data!)).toBe(TCP_PSH | TCP_ACK);
        const serverData = segs(r, 'b').find((f) => tcpOf(f).flags & TCP_PSH)!;
        expect(tcpOf(serverData).window).toBe(64);
        // A connected socket numbers its packets from one random IP id.
        expect([ack!.ip.id, data!.ip.id]).toEqual([(syn!.ip.id + 1) & 0xffff, (syn!.ip.id + 2) & 0xffff]);
        // The server answers and closes at once: its FIN follows its data.
        const server = segs(r, 'b').map(flagsOf);
        expect(server.indexOf(TCP_FIN | TCP_ACK)).toBe(server.indexOf(TCP_PSH | TCP_ACK) + 1);
      },
    },
    {
      name: 'route `mtu 1400`: SYN mss 1360 and window 65280; the SYN-ACK keeps the server’s own mss 1460',
      setup: [...PAIR, 'ip -n a route add 10.0.0.2/32 dev eth0 mtu 1400'],
      listen: LISTEN,
      action: { tcp: { from: 'a', to: '10.0.0.2', port: 80, payload: 'hello' } },
      expect: { result: 'reachable' },
      check: (r) => {
        const syn = segs(r, 'a')[0]!;
        expect([tcpOf(syn).options.mss, tcpOf(syn).window]).toEqual([1360, 65280]);
        expect(tcpOf(segs(r, 'b')[0]!).options.mss).toBe(1460);
        expect(tcpOf(segs(r, 'a')[1]!).window).toBe(64);
      },
    },
    {
      name: 'route `advmss 1000`: SYN mss 1000 and window 65000',
      setup: [...PAIR, 'ip -n a route add 10.0.0.2/32 dev eth0 advmss 1000'],
      listen: LISTEN,
      action: { tcp: { from: 'a', to: '10.0.0.2', port: 80, payload: 'hello' } },
      expect: { result: 'reachable' },
      check: (r) => {
        const syn = segs(r, 'a')[0]!;
        expect([tcpOf(syn).options.mss, tcpOf(syn).window]).toEqual([1000, 65000]);
      },
    },
    {
      name: 'the server advertises the MSS of its own route back to the client',
      setup: [...PAIR, 'ip -n b route add 10.0.0.1/32 dev eth0 mtu 1300'],
      listen: LISTEN,
      action: { tcp: { from: 'a', to: '10.0.0.2', port: 80, payload: 'hello' } },
      expect: { result: 'reachable' },
      check: (r) => {
        expect(tcpOf(segs(r, 'a')[0]!).options.mss).toBe(1460);
        expect(tcpOf(segs(r, 'b')[0]!).options.mss).toBe(1260);
      },
    },
  ]);
});

describe('closed ports', () => {
  cases([
    {
      name: 'TCP to a closed port: RST with seq 0, ack ISN+1, win 0, no options, IP id 0, DF, TTL 64',
      setup: PAIR,
      action: { tcp: { from: 'a', to: '10.0.0.2', port: 9 } },
      expect: { result: 'refused', replyFrom: '10.0.0.2', replyTtl: 64, drops: [{ reason: 'NO_SOCKET', ns: 'b' }] },
      check: (r) => {
        const syn = segs(r, 'a')[0]!;
        const rst = segs(r, 'b')[0]!;
        const t = tcpOf(rst);
        expect(t.flags).toBe(TCP_RST | TCP_ACK);
        expect([t.seq, t.ack, t.window, t.headerLength]).toEqual([0, (tcpOf(syn).seq + 1) >>> 0, 0, 20]);
        expect([rst.ip.totalLength, rst.ip.id, rst.ip.df, rst.ip.ttl, rst.ip.tos]).toEqual([40, 0, true, 64, 0]);
        expect(segs(r, 'a')).toHaveLength(1);
      },
    },
    {
      name: 'UDP to a closed port: ICMP port unreachable from the destination (refused)',
      setup: PAIR,
      action: { udp: { from: 'a', to: '10.0.0.2', port: 9, payload: 'x' } },
      expect: {
        result: 'refused',
        icmp: 'port-unreachable',
        replyFrom: '10.0.0.2',
        replyTtl: 64,
        icmpSent: [{ ns: 'b', kind: 'port unreachable', to: '10.0.0.1' }],
      },
      check: (r) => {
        const err = ipFrames(r, { ns: 'b', dev: 'eth0', dir: 'tx' }).find((f) => f.ip.protocol === 1)!;
        expect([icmpOf(err).type, icmpOf(err).code, err.ip.ttl, err.ip.tos]).toEqual([3, 3, 64, 0xc0]);
      },
    },
    {
      name: 'UDP to a bound port: the server’s answer comes back',
      setup: PAIR,
      listen: LISTEN,
      action: { udp: { from: 'a', to: '10.0.0.2', port: 53, payload: 'query' } },
      expect: { result: 'reachable', replyFrom: '10.0.0.2', replyTtl: 64 },
      check: (r) => expect(r.probe.outcome.replyPayload).toBe('answer'),
    },
  ]);
});
