// The VXLAN device itself: what `ip -d link`, `ip -br link`, `ip route` and `bridge fdb show` print for flannel's
// flannel.1 (compared with tools/kernel-lab/VXLAN-NOTES.md, for the library-built topology and for one built from
// the capture script's own commands), creation rules and refusals, the FDB's add/append/replace/del semantics with
// the outputs and messages Linux 6.18 / iproute2 6.1 gave for the same sequence, learning, and malformed input.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brFdbAdd, brFdbDel } from '../../src/bridge/fdb_ops.js';
import { showFdb } from '../../src/bridge/show.js';
import { topology } from '../../src/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { createDummy, createVeth, linkDelete, linkSetDown, linkSetMtu, linkSetUp } from '../../src/netns/link.js';
import type { NetNs } from '../../src/netns/netns.js';
import { ipLinkShowDetail, showLinksBrief, showRoutes } from '../../src/netns/show.js';
import { udpSend } from '../../src/netns/udp.js';
import { createVxlan, VxlanDev } from '../../src/netns/vxlan.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { act } from './harness.js';
import { buildOverlay, ipv4, MACS, macOf } from './vxlan-topology.js';

const NOTES = readFileSync(new URL('../../tools/kernel-lab/VXLAN-NOTES.md', import.meta.url), 'utf8');

/** The output the notes quote after `$ COMMAND`, up to the next blank line. */
function notesOutput(command: string): string {
  const start = NOTES.indexOf(`$ ${command}\n`);
  if (start < 0) throw new Error(`not in the notes: ${command}`);
  const body = NOTES.slice(start + command.length + 3);
  return body.slice(0, body.indexOf('\n\n') + 1);
}

/** The capture script's setup commands (VXLAN-NOTES.md "Commands") behind the underlay and pods it builds. */
function scriptTopology(): ReturnType<typeof topology> {
  const lines: string[] = [];
  for (const n of ['ul', 'n1', 'n2', 'p1', 'p2']) lines.push(`ip netns add ${n}`, `ip -n ${n} link set lo up`);
  lines.push('ip -n ul link add br0 type bridge', 'ip -n ul link set br0 up');
  for (const i of [1, 2])
    lines.push(
      `ip -n ul link add u${i} address 02:50:00:00:00:f${i} type veth peer name eth0 address 02:50:00:00:00:0${i} netns n${i}`,
      `ip -n ul link set u${i} master br0`,
      `ip -n ul link set u${i} up`,
    );
  for (const i of [1, 2])
    lines.push(
      `ip -n n${i} addr add 192.168.50.1${i}/24 dev eth0`,
      `ip -n n${i} link set eth0 up`,
      `ip netns exec n${i} sysctl -w net.ipv4.ip_forward=1`,
      `ip -n n${i} link add cni0 address 02:44:0${i}:00:00:01 type bridge`,
      `ip -n n${i} addr add 10.244.${i}.1/24 dev cni0`,
      `ip -n n${i} link set cni0 mtu 1450`,
      `ip -n n${i} link add vethp${i} address 02:44:0${i}:00:00:fe mtu 1450 type veth peer name eth0 address 02:44:0${i}:00:00:02 mtu 1450 netns p${i}`,
      `ip -n n${i} link set vethp${i} master cni0`,
      `ip -n n${i} link set vethp${i} up`,
      `ip -n n${i} link set cni0 up`,
      `ip -n p${i} addr add 10.244.${i}.2/24 dev eth0`,
      `ip -n p${i} link set eth0 up`,
      `ip -n p${i} route add default via 10.244.${i}.1`,
    );
  const commands = NOTES.slice(NOTES.indexOf('## Commands'));
  const block = commands.slice(commands.indexOf('```\n') + 4, commands.indexOf('\n```', commands.indexOf('```\n') + 4));
  lines.push(...block.split('\n'));
  return topology(lines);
}

describe('flannel.1 as the notes show it', () => {
  const built = buildOverlay();
  const fromScript = scriptTopology();
  for (const [name, n1] of [
    ['library', built.n[0]],
    ['capture script commands', fromScript.netns('n1')],
  ] as const) {
    it(`${name}: ip -d link show flannel.1`, () => {
      expect(ipLinkShowDetail(n1, 'flannel.1')).toBe(notesOutput('ip netns exec n1 ip -d link show flannel.1'));
    });
    it(`${name}: ip -br link, ip route, bridge fdb show dev flannel.1`, () => {
      expect(showLinksBrief(n1)).toBe(notesOutput('ip netns exec n1 ip -br link'));
      expect(showRoutes(n1)).toBe(notesOutput('ip netns exec n1 ip route'));
      expect(showFdb(n1, 'flannel.1')).toBe(notesOutput('ip netns exec n1 bridge fdb show dev flannel.1'));
    });
  }

  it('the script-built overlay carries a ping with TTL 62', () => {
    const r = act(fromScript, { ping: { from: 'p1', to: '10.244.2.2' } });
    expect(r.probe.outcome).toMatchObject({ result: 'reachable', replyTtl: 62 });
  });
});

function node(): { k: Kernel; ns: NetNs } {
  const k = new Kernel();
  const ns = k.addNetns('n');
  createVeth(ns, { name: 'eth0', peerName: 'peer0' });
  return { k, ns };
}

describe('creation', () => {
  it('MTU: 1500 without dev, lower MTU − 50 with it, an explicit MTU capped there', () => {
    const { ns } = node();
    expect(createVxlan(ns, { name: 'vx0', vni: 1 }).mtu).toBe(1500);
    expect(createVxlan(ns, { name: 'vx1', vni: 2, local: ipv4('192.168.1.1') }).mtu).toBe(1500);
    expect(createVxlan(ns, { name: 'vx2', vni: 3, dev: 'eth0' }).mtu).toBe(1450);
    expect(createVxlan(ns, { name: 'vx3', vni: 4, dev: 'eth0', mtu: 1500 }).mtu).toBe(1450);
    expect(createVxlan(ns, { name: 'vx4', vni: 5, dev: 'eth0', mtu: 1400 }).mtu).toBe(1400);
    const big = createDummy(ns, 'd0', undefined, 9000);
    expect(createVxlan(ns, { name: 'vx5', vni: 6, dev: big.name }).mtu).toBe(8950);
  });

  it('MTU changes: the lower device limits, otherwise 68–65535', () => {
    const { ns } = node();
    const withDev = createVxlan(ns, { name: 'vx0', vni: 1, dev: 'eth0' });
    expect(() => linkSetMtu(withDev, 1451)).toThrow('RTNETLINK answers: Invalid argument');
    linkSetMtu(withDev, 1400);
    const plain = createVxlan(ns, { name: 'vx1', vni: 2 });
    linkSetMtu(plain, 65535);
    expect(() => linkSetMtu(plain, 65536)).toThrow('Error: mtu greater than device maximum.');
    expect(() => linkSetMtu(plain, 67)).toThrow('Error: mtu less than device minimum.');
  });

  it('refuses what Linux refuses', () => {
    const { ns } = node();
    createVxlan(ns, { name: 'vx0', vni: 1, dstport: 8472 });
    expect(() => createVxlan(ns, { name: 'vx1', vni: 1 })).toThrow(
      'Error: A VXLAN device with the specified VNI already exists.',
    );
    createVxlan(ns, { name: 'vx1', vni: 1, dstport: 4789 });
    expect(() => createVxlan(ns, { name: 'vx2', vni: 2, srcPortMin: 2000, srcPortMax: 1000 })).toThrow(
      'Error: Invalid source port range.',
    );
    expect(() => createVxlan(ns, { name: 'vx2', vni: 1 << 24 })).toThrow('VXLAN ID must be lower than 16777216');
    expect(() => createVxlan(ns, { name: 'vx2', vni: 3, dev: 'eth9' })).toThrow('Cannot find device "eth9"');
    expect(() => createVxlan(ns, { name: 'vx0', vni: 9 })).toThrow('RTNETLINK answers: File exists');
  });

  it('an up device holds its UDP port; a second VNI on the port shares the socket', () => {
    const { ns } = node();
    ns.sockets.listen('udp', 4789, new Uint8Array());
    const taken = createVxlan(ns, { name: 'vx0', vni: 1, dstport: 4789 });
    expect(() => linkSetUp(taken)).toThrow('RTNETLINK answers: Address already in use');
    expect(taken.adminUp).toBe(false);
    const a = createVxlan(ns, { name: 'vx1', vni: 1 });
    const b = createVxlan(ns, { name: 'vx2', vni: 2 });
    linkSetUp(a);
    linkSetUp(b);
    expect(() => ns.sockets.listen('udp', 8472, new Uint8Array())).toThrow('already in use');
    linkDelete(a);
    expect(ns.sockets.udpEncap.has(8472)).toBe(true);
    linkDelete(b);
    expect(ns.sockets.udpEncap.has(8472)).toBe(false);
  });

  it('goes away with its lower device', () => {
    const { k, ns } = node();
    createVxlan(ns, { name: 'vx0', vni: 1, dev: 'eth0' });
    linkDelete(ns.dev('eth0'));
    k.run(k.now);
    expect(ns.devs.has('vx0')).toBe(false);
  });

  it('is UNKNOWN when up and lists its settings in ip -d link', () => {
    const { ns } = node();
    const d = createVxlan(ns, {
      name: 'vx10',
      vni: 10,
      mac: macOf('fe:42:f1:22:11:59'),
      srcPortMin: 1000,
      srcPortMax: 2000,
      ttl: 10,
      udpCsum: false,
    });
    // As Linux printed `ip link add vx10 type vxlan id 10 srcport 1000 2000 dstport 8472 ttl 10 noudpcsum learning`.
    expect(ipLinkShowDetail(ns, 'vx10')).toBe(
      `${d.ifindex}: vx10: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether fe:42:f1:22:11:59 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    vxlan id 10 srcport 1000 2000 dstport 8472 ttl 10 ageing 300 noudpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 
`,
    );
    linkSetUp(d);
    expect(d.operState()).toBe('UNKNOWN');
    expect(showLinksBrief(ns)).toContain(
      'vx10             UNKNOWN        fe:42:f1:22:11:59 <BROADCAST,MULTICAST,UP,LOWER_UP> \n',
    );
  });
});

describe('FDB commands', () => {
  const M = (s: string) => macOf(`0a:f1:00:00:00:${s}`);
  const fdb = (ns: NetNs, line: Partial<Parameters<typeof brFdbAdd>[1]> & { mac: number }) =>
    brFdbAdd(ns, { dev: 'vx0', self: true, master: false, state: 'permanent', op: 'add', ...line });

  it('replays the sequence run on Linux with the same answers and dump', () => {
    const { ns } = node();
    const vx = createVxlan(ns, { name: 'vx0', vni: 1, mac: M('01'), learning: false });
    linkSetUp(vx);
    fdb(ns, { mac: M('02'), dst: ipv4('192.168.50.12') });
    expect(() => fdb(ns, { mac: M('02'), dst: ipv4('192.168.50.12') })).toThrow('RTNETLINK answers: File exists');
    expect(() => fdb(ns, { mac: M('02'), dst: ipv4('192.168.50.13') })).toThrow('RTNETLINK answers: File exists');
    fdb(ns, { op: 'append', mac: M('02'), dst: ipv4('192.168.50.12') });
    fdb(ns, { op: 'append', mac: M('02'), dst: ipv4('192.168.50.14') });
    expect(showFdb(ns, 'vx0')).toBe('0a:f1:00:00:00:02 dst 192.168.50.12 self permanent\n');
    fdb(ns, { op: 'replace', mac: M('02'), dst: ipv4('192.168.50.15') });
    expect(showFdb(ns, 'vx0')).toBe('0a:f1:00:00:00:02 dst 192.168.50.15 self permanent\n');
    fdb(ns, { op: 'replace', mac: M('03'), dst: ipv4('192.168.50.16'), state: 'static' });
    fdb(ns, { mac: M('04'), dst: ipv4('192.168.50.17'), state: 'dynamic' });
    fdb(ns, { mac: M('05'), dst: ipv4('192.168.50.18'), vni: 7 });
    expect(() => fdb(ns, { mac: M('06') })).toThrow('RTNETLINK answers: Invalid argument');
    fdb(ns, { op: 'append', mac: 0, dst: ipv4('192.168.50.21') });
    fdb(ns, { op: 'append', mac: 0, dst: ipv4('192.168.50.22') });
    fdb(ns, { mac: macOf('ff:ff:ff:ff:ff:ff'), dst: ipv4('192.168.50.23') });
    fdb(ns, { mac: macOf('01:00:5e:00:00:05'), dst: ipv4('192.168.50.23') });
    const dump = [
      '01:00:5e:00:00:05 dst 192.168.50.23 self permanent',
      'ff:ff:ff:ff:ff:ff dst 192.168.50.23 self permanent',
      '00:00:00:00:00:00 dst 192.168.50.21 self permanent',
      '00:00:00:00:00:00 dst 192.168.50.22 self permanent',
      '0a:f1:00:00:00:05 dst 192.168.50.18 vni 7 self permanent',
      '0a:f1:00:00:00:04 dst 192.168.50.17 self ',
      '0a:f1:00:00:00:03 dst 192.168.50.16 self static',
      '0a:f1:00:00:00:02 dst 192.168.50.15 self permanent',
    ];
    expect(showFdb(ns, 'vx0')).toBe(dump.map((l) => `${l}\n`).join(''));
    expect(showFdb(ns)).toBe(dump.map((l) => `${l.replace(' dst', ' dev vx0 dst')}\n`).join(''));
    const del = (mac: number, dst?: string) =>
      brFdbDel(ns, { mac, dev: 'vx0', self: true, master: false, ...(dst ? { dst: ipv4(dst) } : {}) });
    del(0, '192.168.50.99');
    del(0, '192.168.50.21');
    del(M('02'));
    expect(() => del(M('99'))).toThrow('RTNETLINK answers: No such file or directory');
    expect(() =>
      brFdbAdd(ns, { mac: M('07'), dev: 'vx0', self: false, master: true, dst: ipv4('1.2.3.4'), op: 'add' }),
    ).toThrow('RTNETLINK answers: Operation not supported');
    fdb(ns, { mac: M('01'), dst: ipv4('1.2.3.4') });
    expect(ns.dev('vx0')).toBeInstanceOf(VxlanDev);
    expect(showFdb(ns, 'vx0')).toContain('0a:f1:00:00:00:04');
    // `ip link set vx0 down` drops only the dynamic entry.
    linkSetDown(vx);
    expect(showFdb(ns, 'vx0')).toBe(
      [
        '0a:f1:00:00:00:01 dst 1.2.3.4 self permanent',
        '01:00:5e:00:00:05 dst 192.168.50.23 self permanent',
        'ff:ff:ff:ff:ff:ff dst 192.168.50.23 self permanent',
        '00:00:00:00:00:00 dst 192.168.50.22 self permanent',
        '0a:f1:00:00:00:05 dst 192.168.50.18 vni 7 self permanent',
        '0a:f1:00:00:00:03 dst 192.168.50.16 self static',
      ]
        .map((l) => `${l}\n`)
        .join(''),
    );
  });

  it('refuses to replace the all-zeros entry and to create one by replace', () => {
    const { ns } = node();
    const vx = createVxlan(ns, { name: 'vx0', vni: 1 });
    vx.fdbAppend(0, ipv4('192.168.50.21'));
    expect(() => vx.fdbReplace(0, ipv4('192.168.50.22'))).toThrow('Error: Cannot replace non-unicast fdb entries.');
    expect(() => vx.fdbReplace(macOf('ff:ff:ff:ff:ff:ff'), ipv4('192.168.50.22'))).toThrow(
      'RTNETLINK answers: Operation not supported',
    );
    expect(() => vx.fdbAdd(0, ipv4('192.168.50.24'))).toThrow('RTNETLINK answers: File exists');
    vx.fdbAppend(macOf('0a:00:00:00:00:09'), ipv4('192.168.50.23'));
    vx.fdbReplace(macOf('0a:00:00:00:00:09'), ipv4('192.168.50.23'), { state: 'static' });
    expect(vx.fdbEntries().map((e) => [e.mac, e.state, e.remotes.length])).toEqual([
      [macOf('0a:00:00:00:00:09'), 'static', 1],
      [0, 'permanent', 1],
    ]);
  });
});

describe('receive path', () => {
  function drops(events: TraceEvent[], ns: string) {
    return events
      .filter((e): e is Extract<TraceEvent, { type: 'drop' }> => e.type === 'drop' && e.ns === ns)
      .map((e) => e.reason);
  }

  it('learns the sender with learning on, and ages it out after 300 s', () => {
    const ov = buildOverlay({ n2Vxlan: { learning: true } });
    const vx2 = ov.flannel[1];
    vx2.fdbDel(MACS.flannel(1));
    const r = act(ov.k, { ping: { from: 'p1', to: '10.244.2.2' } });
    expect(r.probe.outcome.result).toBe('reachable');
    expect(showFdb(ov.n[1], 'flannel.1')).toBe('0a:f1:00:00:00:01 dst 192.168.50.11 self \n');
    ov.k.run(ov.k.now + 301e9);
    expect(showFdb(ov.n[1], 'flannel.1')).toBe('');
  });

  it('never moves a static entry: frames from another VTEP are dropped', () => {
    const ov = buildOverlay({ n2Vxlan: { learning: true } });
    ov.flannel[1].fdbReplace(MACS.flannel(1), ipv4('192.168.50.99'));
    const r = act(ov.k, { ping: { from: 'p1', to: '10.244.2.2', waitNs: 1e9 } });
    expect(r.probe.outcome.result).toBe('timeout');
    expect(drops(r.events, 'n2')).toEqual(['VXLAN_ENTRY_EXISTS']);
  });

  function inject(payload: number[]): TraceEvent[] {
    const ov = buildOverlay();
    const from = ov.k.tracer.events.length;
    udpSend(ov.n[0], null, 40000, ipv4('192.168.50.12'), 8472, Uint8Array.from(payload));
    ov.k.run(ov.k.now + 1e9);
    return ov.k.tracer.events.slice(from);
  }
  const frame = (src: number[]) => [...[0x0a, 0xf1, 0, 0, 0, 2], ...src, 0x08, 0x00, ...new Array(20).fill(0)];

  it('drops headers without the I flag, with reserved bits, too short, or from its own MAC', () => {
    expect(drops(inject([0, 0, 0, 0, 0, 0, 1, 0, ...frame([2, 0, 0, 0, 0, 9])]), 'n2')).toEqual(['VXLAN_INVALID_HDR']);
    expect(drops(inject([0x0c, 0, 0, 0, 0, 0, 1, 0, ...frame([2, 0, 0, 0, 0, 9])]), 'n2')).toEqual([
      'VXLAN_INVALID_HDR',
    ]);
    expect(drops(inject([8, 0, 0, 0]), 'n2')).toEqual(['PKT_TOO_SMALL']);
    expect(drops(inject([8, 0, 0, 0, 0, 0, 1, 0, ...frame([0x0a, 0xf1, 0, 0, 0, 2])]), 'n2')).toEqual(['LOCAL_MAC']);
  });

  it('delivers a well-formed frame to the device with that VNI', () => {
    const events = inject([8, 0, 0, 0, 0, 0, 1, 0, ...frame([2, 0, 0, 0, 0, 9])]);
    const rx = events.find((e) => e.type === 'dev' && e.ns === 'n2' && e.dev === 'flannel.1');
    expect(rx).toMatchObject({ dir: 'rx', from: { ns: 'n1', dev: 'flannel.1' } });
  });
});
