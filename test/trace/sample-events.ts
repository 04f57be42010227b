// Hand-written traces for renderer tests: a ping across one veth pair (ARP, echo request/reply), and a ping through
// a router namespace followed by a TTL=1 probe that the router drops, a frame sent on a device with no peer and a
// drop that names no device.

import type { TraceEvent } from '../../src/trace/events.js';

type Body = Record<string, unknown> & { type: string };

export function builder() {
  const events: TraceEvent[] = [];
  let seq = 0;
  const add = (t: number, ns: string, pkt: number, body: Body, step = 0) => {
    events.push({ t, seq: seq++, step, pkt, ns, ...body } as unknown as TraceEvent);
  };
  const frame = (t: number, ns: string, dev: string, pkt: number, dir: 'rx' | 'tx', summary: string, from?: string) => {
    const body: Body = { type: 'dev', dir, dev, len: 98, summary };
    if (from) {
      const [fns, fdev] = from.split('/');
      body.from = { ns: fns, dev: fdev };
    }
    add(t, ns, pkt, body);
  };
  return { events, add, frame };
}

const REQ = 'IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64';
const REP = 'IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 1, length 64';
const WHO = 'ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28';
const ISAT = 'ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:0b, length 28';

export function pingOverVeth(): TraceEvent[] {
  const { events, add, frame } = builder();
  add(0, 'a', 1, {
    type: 'route',
    dst: '10.0.0.2',
    result: '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1',
  });
  add(0, 'a', 1, { type: 'neigh', dev: 'eth0', ip: '10.0.0.2', action: 'resolve', state: 'INCOMPLETE' });
  frame(0, 'a', 'eth0', 2, 'tx', WHO);
  frame(1000, 'b', 'eth0', 2, 'rx', WHO, 'a/eth0');
  add(1000, 'b', 2, {
    type: 'neigh',
    dev: 'eth0',
    ip: '10.0.0.1',
    action: 'update',
    state: 'STALE',
    mac: '02:00:00:00:00:0a',
  });
  frame(1000, 'b', 'eth0', 3, 'tx', ISAT);
  frame(2000, 'a', 'eth0', 3, 'rx', ISAT, 'b/eth0');
  add(2000, 'a', 3, {
    type: 'neigh',
    dev: 'eth0',
    ip: '10.0.0.2',
    action: 'update',
    state: 'REACHABLE',
    mac: '02:00:00:00:00:0b',
  });
  frame(2000, 'a', 'eth0', 1, 'tx', REQ);
  frame(3000, 'b', 'eth0', 1, 'rx', REQ, 'a/eth0');
  add(3000, 'b', 1, { type: 'stage', stage: 'ipLocalDeliver', dev: 'eth0' });
  add(3000, 'b', 1, { type: 'sock', proto: 'icmp', action: 'reply', detail: 'echo reply id 1 seq 1 to 10.0.0.1' });
  frame(3000, 'b', 'eth0', 4, 'tx', REP);
  frame(4000, 'a', 'eth0', 4, 'rx', REP, 'b/eth0');
  add(4000, 'a', 4, {
    type: 'sock',
    proto: 'icmp',
    action: 'recv',
    detail: '64 bytes from 10.0.0.2: icmp_seq=1 ttl=64',
  });
  return events;
}

export function routedWithTtlDrop(): TraceEvent[] {
  const { events, add, frame } = builder();
  const T = 1_000_000_000;
  const req = (n: number) => `IP 10.0.1.2 > 10.0.2.2: ICMP echo request, id 7, seq ${n}, length 64`;
  const rep = 'IP 10.0.2.2 > 10.0.1.2: ICMP echo reply, id 7, seq 1, length 64';
  frame(T, 'a', 'eth0', 10, 'tx', req(1));
  frame(T + 1000, 'r', 'eth0', 10, 'rx', req(1), 'a/eth0');
  add(T + 1000, 'r', 10, {
    type: 'route',
    dst: '10.0.2.2',
    result: '10.0.2.0/24 dev eth1 proto kernel scope link src 10.0.2.1',
  });
  frame(T + 1000, 'r', 'eth1', 10, 'tx', req(1));
  frame(T + 2000, 'b', 'eth0', 10, 'rx', req(1), 'r/eth1');
  frame(T + 2000, 'b', 'eth0', 11, 'tx', rep);
  frame(T + 3000, 'r', 'eth1', 11, 'rx', rep, 'b/eth0');
  frame(T + 3000, 'r', 'eth0', 11, 'tx', rep);
  frame(T + 4000, 'a', 'eth0', 11, 'rx', rep, 'r/eth0');
  frame(2 * T, 'a', 'eth0', 12, 'tx', req(2));
  frame(2 * T + 1000, 'r', 'eth0', 12, 'rx', req(2), 'a/eth0');
  add(2 * T + 1000, 'r', 12, {
    type: 'drop',
    reason: 'TTL_EXPIRED',
    detail: 'ttl 1 reached 0 in ipForward',
    dev: 'eth0',
  });
  add(2 * T + 1000, 'r', 13, {
    type: 'icmp',
    action: 'send',
    kind: 'time-exceeded',
    to: '10.0.1.2',
    reason: 'TTL_EXPIRED',
  });
  frame(2 * T + 1000, 'r', 'eth0', 13, 'tx', 'IP 10.0.1.1 > 10.0.1.2: ICMP time exceeded in-transit, length 92');
  frame(
    2 * T + 2000,
    'a',
    'eth0',
    13,
    'rx',
    'IP 10.0.1.1 > 10.0.1.2: ICMP time exceeded in-transit, length 92',
    'r/eth0',
  );
  frame(3 * T, 'r', 'dummy0', 14, 'tx', 'IP 10.0.3.1.5000 > 10.0.3.9.53: UDP, length 12');
  add(3 * T + 5, 'b', 15, { type: 'drop', reason: 'NO_ROUTE', detail: 'no route to 192.0.2.1' });
  return events;
}
