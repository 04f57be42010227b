// Conntrack driven directly with hand-built packets: states per packet, timeouts in virtual time, the TCP state
// machine and the segments it refuses, ICMP errors RELATED to a connection, untracked and looped-back packets.

import { describe, expect, it } from 'vitest';
import { Conntrack, formatConntrackEntry } from '../../src/iptables/conntrack/index.js';
import type { Skb } from '../../src/netns/skb.js';
import { NS_PER_S } from '../../src/sim/events.js';
import { Rng } from '../../src/sim/rng.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { icmpEcho, icmpError, poke16, rawIp, tcp, udp } from './conntrack-packets.js';

function table(opts: { tcpLoose?: boolean } = {}): { ct: Conntrack; at: (s: number) => void } {
  let t = 0;
  const ct = new Conntrack({ now: () => t, rng: new Rng(1), ...opts });
  return { ct, at: (s) => (t = Math.round(s * NS_PER_S)) };
}

/** A packet received from the network and delivered locally: PREROUTING then INPUT's confirm. */
function rx(ct: Conntrack, skb: Skb) {
  const res = ct.inPacket(skb, skb.nh, 'PREROUTING');
  const confirmed = ct.confirm(skb);
  return { ...res, confirmed };
}

const C = '10.0.0.1';
const S = '10.0.0.2';
const OPTS = { mss: 1460, sackPerm: true, wscale: 7 };

describe('conntrack states', () => {
  it('UDP: NEW until a reply, ESTABLISHED after; unconfirmed entries are not listed', () => {
    const { ct } = table();
    const q = udp(C, S, 40000, 53);
    const r1 = ct.inPacket(q, q.nh, 'PREROUTING');
    expect(r1).toMatchObject({ state: 'NEW', dir: 'ORIGINAL', isNew: true });
    expect(q.ext.ct).toBe(r1.ct);
    expect(q.ext.ctState).toBe('NEW');
    expect(ct.count()).toBe(0);
    expect(ct.confirm(q)).toBe('accept');
    expect(ct.count()).toBe(1);
    expect(r1.ct!.status.confirmed).toBe(true);
    // A second query before any answer is still NEW.
    expect(rx(ct, udp(C, S, 40000, 53))).toMatchObject({ state: 'NEW', isNew: false });
    const a = rx(ct, udp(S, C, 53, 40000));
    expect(a).toMatchObject({ state: 'ESTABLISHED', dir: 'REPLY' });
    expect(a.ct).toBe(r1.ct);
    expect(r1.ct!.status.seenReply).toBe(true);
    expect(rx(ct, udp(C, S, 40000, 53)).state).toBe('ESTABLISHED');
  });

  it('UDP timeouts: 30 s, refreshed per packet, expired lazily; a stream after 2 s gets 120 s and ASSURED', () => {
    const { ct, at } = table();
    at(0);
    const first = rx(ct, udp(C, S, 40000, 53)).ct!;
    expect(first.timeoutAt).toBe(30 * NS_PER_S);
    at(20);
    rx(ct, udp(C, S, 40000, 53));
    expect(first.timeoutAt).toBe(50 * NS_PER_S);
    at(49.999);
    expect(ct.count()).toBe(1);
    at(50);
    expect(ct.count()).toBe(0);
    // The next packet of the same flow starts a new entry.
    const again = rx(ct, udp(C, S, 40000, 53));
    expect(again).toMatchObject({ state: 'NEW', isNew: true });
    expect(again.ct).not.toBe(first);
    // Answered within 2 s: still 30 s, not assured.
    at(50.5);
    rx(ct, udp(S, C, 53, 40000));
    expect(again.ct!.timeoutAt).toBe(Math.round(80.5 * NS_PER_S));
    expect(again.ct!.status.assured).toBe(false);
    // Still talking after 2 s: a stream.
    at(53);
    rx(ct, udp(C, S, 40000, 53));
    expect(again.ct!.status.assured).toBe(true);
    expect(again.ct!.timeoutAt).toBe(173 * NS_PER_S);
    expect(formatConntrackEntry(again.ct!, 53 * NS_PER_S)).toBe(
      'udp      17 120 src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=40000 [ASSURED] mark=0 use=1',
    );
  });

  it('ICMP echo: NEW, reply ESTABLISHED, 30 s; a lone echo reply is INVALID', () => {
    const { ct, at } = table();
    const req = rx(ct, icmpEcho(C, S, 8, 77));
    expect(req).toMatchObject({ state: 'NEW', isNew: true });
    expect(req.ct!.original).toMatchObject({ sport: 77, dport: 8 << 8 });
    expect(req.ct!.reply).toMatchObject({ sport: 77, dport: 0 });
    expect(rx(ct, icmpEcho(S, C, 0, 77))).toMatchObject({ state: 'ESTABLISHED', dir: 'REPLY' });
    at(1);
    expect(formatConntrackEntry(req.ct!, 1 * NS_PER_S)).toBe(
      'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=77 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=77 mark=0 use=1',
    );
    expect(rx(ct, icmpEcho(S, C, 0, 78))).toMatchObject({ state: 'INVALID', ct: null });
  });

  it('other protocols are tracked generically for 600 s', () => {
    const { ct, at } = table();
    const e = rx(ct, rawIp(C, S, 47)).ct!;
    at(1);
    expect(formatConntrackEntry(e, 1 * NS_PER_S)).toBe(
      'unknown  47 599 src=10.0.0.1 dst=10.0.0.2 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 mark=0 use=1',
    );
    expect(rx(ct, rawIp(S, C, 47)).state).toBe('ESTABLISHED');
  });

  it('checksums are verified at PREROUTING only (nf_conntrack_checksum=1)', () => {
    const { ct } = table();
    const bad = udp(C, S, 40000, 53);
    poke16(bad, 26, 0x1234);
    expect(ct.inPacket(bad, bad.nh, 'PREROUTING')).toMatchObject({ state: 'INVALID', reason: 'bad checksum' });
    const local = udp(C, S, 40000, 53);
    poke16(local, 26, 0x1234);
    expect(ct.inPacket(local, local.nh, 'OUTPUT').state).toBe('NEW');
    const badPing = icmpEcho(C, S, 8, 1);
    poke16(badPing, 22, 0);
    expect(ct.inPacket(badPing, badPing.nh, 'PREROUTING').state).toBe('INVALID');
  });

  it('UNTRACKED packets are left alone; a looped-back packet keeps its entry; another table ignores the fields', () => {
    const { ct } = table();
    const p = udp(C, S, 1, 2);
    ct.setUntracked(p);
    expect(ct.inPacket(p, p.nh, 'PREROUTING')).toMatchObject({ state: 'UNTRACKED', ct: null });
    expect(ct.confirm(p)).toBe('accept');
    expect(ct.count()).toBe(0);

    const q = udp(C, S, 3, 4);
    const out = ct.inPacket(q, q.nh, 'OUTPUT');
    ct.confirm(q);
    // Through lo and back to PREROUTING: same entry, same state, no second tracking.
    expect(ct.inPacket(q, q.nh, 'PREROUTING')).toMatchObject({ ct: out.ct, state: 'NEW', isNew: false });

    const other = table().ct;
    const again = other.inPacket(q, q.nh, 'PREROUTING');
    expect(again.isNew).toBe(true);
    expect(again.ct).not.toBe(out.ct);
  });

  it('non-first fragments and truncated headers are INVALID', () => {
    const { ct } = table();
    const frag = udp(C, S, 1, 2);
    poke16(frag, 6, 0x0010);
    expect(ct.inPacket(frag, frag.nh, 'OUTPUT').state).toBe('INVALID');
  });
});

describe('TCP tracking', () => {
  /** Client C:40000 → server S:80, both seen at PREROUTING (a router in the middle). */
  function conn(loose = true) {
    const t = table({ tcpLoose: loose });
    const c = (flags: number, seq: number, ack: number, payload = 0) =>
      rx(
        t.ct,
        tcp({
          src: C,
          dst: S,
          sport: 40000,
          dport: 80,
          flags,
          seq,
          ack,
          options: flags & TCP_SYN ? OPTS : {},
          payload: new Uint8Array(payload),
        }),
      );
    const s = (flags: number, seq: number, ack: number, payload = 0) =>
      rx(
        t.ct,
        tcp({
          src: S,
          dst: C,
          sport: 80,
          dport: 40000,
          flags,
          seq,
          ack,
          options: flags & TCP_SYN ? OPTS : {},
          payload: new Uint8Array(payload),
        }),
      );
    return { ...t, c, s };
  }

  it('goes SYN_SENT → SYN_RECV → ESTABLISHED → FIN_WAIT → CLOSE_WAIT → LAST_ACK → TIME_WAIT with Linux timeouts', () => {
    const { ct, at, c, s } = conn();
    const syn = c(TCP_SYN, 1000, 0);
    const e = syn.ct!;
    const line = () => formatConntrackEntry(e, ct.now());
    expect(syn.state).toBe('NEW');
    expect(e.tcpState).toBe('SYN_SENT');
    expect(line()).toMatch(/^tcp {6}6 120 SYN_SENT .* \[UNREPLIED\] /);
    expect(s(TCP_SYN | TCP_ACK, 5000, 1001).state).toBe('ESTABLISHED');
    expect(e.tcpState).toBe('SYN_RECV');
    expect(line()).toMatch(/^tcp {6}6 60 SYN_RECV /);
    expect(e.status.assured).toBe(false);
    c(TCP_ACK, 1001, 5001);
    expect(e.tcpState).toBe('ESTABLISHED');
    expect(e.status.assured).toBe(true);
    expect(line()).toMatch(/^tcp {6}6 432000 ESTABLISHED .*\[ASSURED\] mark=0 use=1$/);
    // Data not yet acknowledged: the unacknowledged timeout (300 s) applies until it is.
    at(1);
    c(TCP_ACK | TCP_PSH, 1001, 5001, 100);
    expect(line()).toMatch(/ 300 ESTABLISHED /);
    s(TCP_ACK, 5001, 1101);
    expect(line()).toMatch(/ 432000 ESTABLISHED /);
    at(2);
    c(TCP_FIN | TCP_ACK, 1101, 5001);
    expect(e.tcpState).toBe('FIN_WAIT');
    expect(line()).toMatch(/ 120 FIN_WAIT /);
    s(TCP_ACK, 5001, 1102);
    expect(e.tcpState).toBe('CLOSE_WAIT');
    expect(line()).toMatch(/ 60 CLOSE_WAIT /);
    s(TCP_FIN | TCP_ACK, 5001, 1102);
    expect(e.tcpState).toBe('LAST_ACK');
    expect(line()).toMatch(/ 30 LAST_ACK /);
    c(TCP_ACK, 1102, 5002);
    expect(e.tcpState).toBe('TIME_WAIT');
    expect(line()).toMatch(/ 120 TIME_WAIT /);
    at(121.999);
    expect(ct.count()).toBe(1);
    at(122);
    expect(ct.count()).toBe(0);
  });

  it('a SYN reopening a TIME_WAIT entry replaces it with a new connection', () => {
    const { ct, c, s } = conn();
    const old = c(TCP_SYN, 1000, 0).ct!;
    s(TCP_SYN | TCP_ACK, 5000, 1001);
    c(TCP_ACK, 1001, 5001);
    c(TCP_FIN | TCP_ACK, 1001, 5001);
    s(TCP_FIN | TCP_ACK, 5001, 1002);
    c(TCP_ACK, 1002, 5002);
    expect(old.tcpState).toBe('TIME_WAIT');
    const again = c(TCP_SYN, 90000, 0);
    expect(again).toMatchObject({ state: 'NEW', isNew: true });
    expect(again.ct).not.toBe(old);
    expect(again.ct!.tcpState).toBe('SYN_SENT');
    expect(ct.entries()).toEqual([again.ct]);
  });

  it('a RST as the only answer deletes the entry; a RST on an established connection closes it (10 s)', () => {
    const { ct, c, s } = conn();
    c(TCP_SYN, 1000, 0);
    expect(s(TCP_RST | TCP_ACK, 0, 1001).state).toBe('ESTABLISHED');
    expect(ct.count()).toBe(0);

    const e = c(TCP_SYN, 1000, 0).ct!;
    s(TCP_SYN | TCP_ACK, 5000, 1001);
    c(TCP_ACK, 1001, 5001);
    c(TCP_RST, 1001, 0);
    expect(e.tcpState).toBe('CLOSE');
    expect(formatConntrackEntry(e, ct.now())).toMatch(/ 10 CLOSE /);
  });

  it('INVALID: SYN/ACK as a first packet, ACK before the SYN/ACK, impossible flags, data beyond the window', () => {
    const { ct, c, s } = conn();
    expect(s(TCP_SYN | TCP_ACK, 5000, 1001)).toMatchObject({ state: 'INVALID', ct: null });
    expect(c(TCP_SYN | TCP_FIN, 1000, 0)).toMatchObject({ state: 'INVALID', reason: 'invalid tcp flag combination' });
    expect(ct.count()).toBe(0);
    const e = c(TCP_SYN, 1000, 0).ct!;
    // The client cannot ACK before the server answered.
    expect(c(TCP_ACK, 1001, 5001).state).toBe('INVALID');
    expect(e.tcpState).toBe('SYN_SENT');
    s(TCP_SYN | TCP_ACK, 5000, 1001);
    c(TCP_ACK, 1001, 5001);
    // Far beyond anything the server's window allows.
    const far = c(TCP_ACK, 1001 + 10_000_000, 5001, 10);
    expect(far.state).toBe('INVALID');
    expect(far.reason).toMatch(/SEQ is over upper bound/);
    // Acknowledging data the server never sent.
    expect(c(TCP_ACK, 1001, 9_000_000).reason).toMatch(/ACK is over upper bound/);
    expect(e.tcpState).toBe('ESTABLISHED');
  });

  it('picks up a connection from a mid-stream ACK (nf_conntrack_tcp_loose=1), not with loose=0', () => {
    const loose = conn(true);
    const r = loose.c(TCP_ACK, 123456, 654321, 10);
    expect(r).toMatchObject({ state: 'NEW', isNew: true });
    expect(r.ct!.tcpState).toBe('ESTABLISHED');
    // Not answered yet: the short unacknowledged timeout, not five days.
    expect(formatConntrackEntry(r.ct!, 0)).toMatch(/^tcp {6}6 300 ESTABLISHED .*\[UNREPLIED\]/);
    // The answer is seen (SEEN_REPLY is set after the tracker ran), the next valid segment assures the entry.
    loose.s(TCP_ACK, 654321, 123466);
    expect(r.ct!.status.seenReply).toBe(true);
    expect(r.ct!.status.assured).toBe(false);
    // As Linux 6.18 lists a picked-up connection right after the peer's ACK.
    expect(formatConntrackEntry(r.ct!, 0)).toMatch(
      /^tcp {6}6 300 ESTABLISHED src=\S+ dst=\S+ sport=40000 dport=80 src=/,
    );
    expect(formatConntrackEntry(r.ct!, 0)).toMatch(/dport=40000 mark=0 use=1$/);
    loose.c(TCP_ACK, 123466, 654321);
    expect(r.ct!.status.assured).toBe(true);
    expect(formatConntrackEntry(r.ct!, 0)).toMatch(/ 432000 ESTABLISHED .*\[ASSURED\]/);

    const strict = conn(false);
    expect(strict.c(TCP_ACK, 123456, 654321, 10)).toMatchObject({ state: 'INVALID', reason: 'invalid new' });
  });
});

describe('ICMP errors', () => {
  it('are RELATED to the connection they quote, in the direction they travel', () => {
    const { ct } = table();
    const q = udp(C, S, 40000, 9999);
    const orig = rx(ct, q).ct!;
    const err = rx(ct, icmpError(S, C, 3, 3, udp(C, S, 40000, 9999)));
    expect(err).toMatchObject({ state: 'RELATED', dir: 'REPLY', ct: orig });
    // The error does not count as a reply.
    expect(orig.status.seenReply).toBe(false);
    // An error from a router on the way, about a packet going the other way.
    const back = rx(ct, icmpError('10.0.0.9', S, 11, 0, udp(S, C, 9999, 40000)));
    expect(back).toMatchObject({ state: 'RELATED', dir: 'ORIGINAL', ct: orig });
  });

  it('are INVALID when nothing matches or the outer destination is not the quoted source', () => {
    const { ct } = table();
    rx(ct, udp(C, S, 40000, 9999));
    expect(rx(ct, icmpError(S, C, 3, 3, udp(C, S, 40001, 9999))).state).toBe('INVALID');
    expect(rx(ct, icmpError(S, '10.0.0.7', 3, 3, udp(C, S, 40000, 9999))).reason).toBe(
      'icmp error: outer daddr != inner',
    );
    // Errors about errors have no connection.
    expect(rx(ct, icmpError(S, C, 3, 3, icmpError(C, S, 3, 3, udp(S, C, 1, 2)))).state).toBe('INVALID');
  });
});

describe('confirmation', () => {
  it('drops a packet whose entry clashes with one confirmed meanwhile, and releases dropped unconfirmed entries', () => {
    const { ct } = table();
    const a = tcp({ src: C, dst: S, sport: 1, dport: 2, flags: TCP_SYN, seq: 1 });
    const b = tcp({ src: C, dst: S, sport: 1, dport: 2, flags: TCP_SYN, seq: 1 });
    ct.inPacket(a, a.nh, 'OUTPUT');
    ct.inPacket(b, b.nh, 'OUTPUT');
    expect(ct.confirm(a)).toBe('accept');
    expect(ct.confirm(b)).toBe('drop');
    expect(ct.stats.insertFailed).toBe(1);
    // The same UDP flow created twice before confirmation joins the first entry instead.
    const u1 = udp(C, S, 5, 6);
    const u2 = udp(C, S, 5, 6);
    ct.inPacket(u1, u1.nh, 'OUTPUT');
    ct.inPacket(u2, u2.nh, 'OUTPUT');
    expect(ct.confirm(u1)).toBe('accept');
    expect(ct.confirm(u2)).toBe('accept');
    expect(u2.ext.ct).toBe(u1.ext.ct);
    const dropped = udp(C, S, 7, 8);
    ct.inPacket(dropped, dropped.nh, 'OUTPUT');
    ct.release(dropped);
    expect(dropped.ext.ct!.dying).toBe(true);
  });
});
