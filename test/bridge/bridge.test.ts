// The Linux bridge: source learning, flooding of broadcast and unknown unicast to every port but the ingress one,
// forwarding of known unicast to exactly one port, hairpin mode, FDB ageing in virtual time, static and permanent
// FDB entries, the bridge's MAC, the bridge address as the pods' gateway, a bridge that is down, and `bridge fdb
// show` / `ip` text against tools/kernel-lab/NOTES.md §9.

import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/index.js';
import { showAddrsBrief, showFdb, showLinksBrief, showNeigh } from '../../src/index.js';
import { formatMac } from '../../src/wire/addr.js';
import { act, arpFrames, build, type CaseRun, cases, ipFrames } from '../netns/harness.js';

const POD_MAC = { a: '02:00:00:00:00:0a', b: '02:00:00:00:00:0b', c: '02:00:00:00:00:0c' };
const PORT_MAC = { a: '02:00:00:00:01:0a', b: '02:00:00:00:01:0b', c: '02:00:00:00:01:0c' };
const POD_IP = { a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' };
type Pod = keyof typeof POD_MAC;

function pod(p: Pod): string[] {
  return [
    `ip netns add ${p}`,
    `ip link add veth-${p} address ${PORT_MAC[p]} type veth peer name eth0 netns ${p} address ${POD_MAC[p]}`,
    `ip link set veth-${p} master br0`,
    `ip link set veth-${p} up`,
    `ip -n ${p} link set lo up`,
    `ip -n ${p} link set eth0 up`,
    `ip -n ${p} addr add ${POD_IP[p]}/24 dev eth0`,
  ];
}

/** br0 in the initial namespace with pods a, b, c (fixed MACs) as ports veth-a, veth-b, veth-c. */
function lan(opts: { bridge?: string; extra?: string[] } = {}): string[] {
  return [
    opts.bridge ?? 'ip link add br0 type bridge',
    'ip link set br0 up',
    ...pod('a'),
    ...pod('b'),
    ...pod('c'),
    ...(opts.extra ?? []),
  ];
}

function fdbEvents(r: CaseRun, pkt?: number): string[] {
  return r.events
    .filter((e) => e.type === 'fdb' && (pkt === undefined || e.pkt === pkt))
    .map((e) => (e.type === 'fdb' ? `${e.action} ${e.mac}${e.port ? ` ${e.port}` : ''}` : ''));
}

/** Pod ports (root:veth-a|b|c) on which the bridge transmitted IPv4 frames matching `pred`. */
function portsTx(r: CaseRun, pred: (f: ReturnType<typeof ipFrames>[number]) => boolean): string[] {
  return ipFrames(r, { ns: 'root', dir: 'tx' })
    .filter((f) => /^veth-[abc]$/.test(f.frame.dev) && pred(f))
    .map((f) => f.frame.dev);
}

const isEchoTo = (dst: string) => (f: ReturnType<typeof ipFrames>[number]) =>
  f.ip.protocol === 1 && f.frame.data[f.nh + 20] === 8 && formatIpDst(f) === dst;

function formatIpDst(f: ReturnType<typeof ipFrames>[number]): string {
  const d = f.ip.dst;
  return `${d >>> 24}.${(d >>> 16) & 255}.${(d >>> 8) & 255}.${d & 255}`;
}

describe('learning, flooding, forwarding', () => {
  cases([
    {
      name: 'the first frame from a port teaches the bridge its source MAC',
      setup: lan(),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable', replyFrom: '10.0.0.2', replyTtl: 64 },
      check: (r) => {
        const learnt = fdbEvents(r).filter((e) => e.startsWith('learn'));
        expect(learnt).toEqual([`learn ${POD_MAC.a} veth-a`, `learn ${POD_MAC.b} veth-b`]);
      },
    },
    {
      name: 'a broadcast (the ARP request) floods to every other port and up to the bridge, never back out the ingress',
      setup: lan(),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable' },
      check: (r) => {
        const req = arpFrames(r, { ns: 'root', dir: 'tx' }).filter((x) => x.op === 1 && x.ethDst === 0xffffffffffff);
        expect(req.map((x) => x.frame.dev).sort()).toEqual(['veth-b', 'veth-c']);
        expect(r.events.some((e) => e.type === 'dev' && e.ns === 'root' && e.dev === 'br0' && e.dir === 'rx')).toBe(
          true,
        );
        // c heard the request and ignored it: no reply from c.
        expect(arpFrames(r, { ns: 'c', dir: 'tx' })).toEqual([]);
      },
    },
    {
      name: 'known unicast goes to the one port behind which the MAC was learnt',
      setup: lan(),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable' },
      check: (r) => {
        expect(portsTx(r, isEchoTo('10.0.0.2'))).toEqual(['veth-b']);
        expect(ipFrames(r, { ns: 'c' })).toEqual([]);
        expect(fdbEvents(r)).toContain(`forward ${POD_MAC.b} veth-b`);
      },
    },
    {
      name: 'unknown unicast floods to every other port; once learnt, the next frame goes to one port only',
      setup: lan({ extra: [`ip -n a neigh add 10.0.0.2 lladdr ${POD_MAC.b} dev eth0 nud permanent`] }),
      action: { ping: { from: 'a', to: '10.0.0.2', count: 2 } },
      expect: { result: 'reachable', drops: [{ reason: 'OTHERHOST', ns: 'c', dev: 'eth0' }] },
      check: (r) => {
        const echoes = ipFrames(r, { ns: 'a', dev: 'eth0', dir: 'tx' }).filter((f) => f.ip.protocol === 1);
        expect(echoes).toHaveLength(2);
        const [first, second] = echoes.map((f) => f.frame.t);
        const txIn = (from: number, to: number) =>
          portsTx(r, (f) => isEchoTo('10.0.0.2')(f) && f.frame.t >= from && f.frame.t < to).sort();
        expect(txIn(first!, second!)).toEqual(['veth-b', 'veth-c']);
        expect(txIn(second!, Number.POSITIVE_INFINITY)).toEqual(['veth-b']);
        expect(fdbEvents(r)).toContain(`flood ${POD_MAC.b}`);
      },
    },
    {
      name: 'a port that is down gets no copy of a flood',
      setup: lan({ extra: ['ip link set veth-c down'] }),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable', notVia: ['root:veth-c', 'c:eth0'] },
    },
  ]);
});

describe('hairpin', () => {
  // a sends to a MAC the bridge learnt on a's own port (here a's own MAC, via a static neighbour entry).
  const toSelf = [`ip -n a neigh add 10.0.0.9 lladdr ${POD_MAC.a} dev eth0 nud permanent`];
  cases([
    {
      name: 'hairpin off: a frame for a MAC behind the ingress port is dropped (BRIDGE_SAME_PORT)',
      setup: lan({ extra: toSelf }),
      action: { ping: { from: 'a', to: '10.0.0.9', waitNs: 1e9 } },
      expect: { result: 'timeout', drops: [{ reason: 'BRIDGE_SAME_PORT', ns: 'root', dev: 'veth-a' }] },
      check: (r) => {
        expect(portsTx(r, isEchoTo('10.0.0.9'))).toEqual([]);
        expect(ipFrames(r, { ns: 'a', dev: 'eth0', dir: 'rx' })).toEqual([]);
      },
    },
    {
      name: '`bridge link set dev veth-a hairpin on`: the frame is sent back out the port it came in on',
      setup: lan({ extra: [...toSelf, 'bridge link set dev veth-a hairpin on'] }),
      action: { ping: { from: 'a', to: '10.0.0.9', waitNs: 1e9 } },
      // a gets its own frame back; it does not forward, so it drops it there.
      expect: {
        result: 'timeout',
        noDrops: ['BRIDGE_SAME_PORT'],
        drops: [{ reason: 'FORWARDING_DISABLED', ns: 'a', dev: 'eth0' }],
      },
      check: (r) => {
        expect(portsTx(r, isEchoTo('10.0.0.9'))).toEqual(['veth-a']);
        expect(ipFrames(r, { ns: 'a', dev: 'eth0', dir: 'rx' }).map((f) => formatIpDst(f))).toEqual(['10.0.0.9']);
      },
    },
    {
      // br_flood's should_deliver honours hairpin too: the sender hears its own broadcast (a known Kubernetes
      // hairpin-mode side effect), which it ignores.
      name: 'hairpin applies to floods as well: the broadcast ARP request is reflected to its sender',
      setup: lan({ extra: ['bridge link set dev veth-a hairpin on'] }),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable' },
      check: (r) => {
        const req = arpFrames(r, { ns: 'root', dir: 'tx' }).filter((x) => x.op === 1);
        expect(req.map((x) => x.frame.dev).sort()).toEqual(['veth-a', 'veth-b', 'veth-c']);
        expect(arpFrames(r, { ns: 'a', dir: 'rx' }).filter((x) => x.op === 1 && x.spa === '10.0.0.1')).toHaveLength(1);
      },
    },
  ]);
});

describe('FDB ageing (virtual time)', () => {
  function secondPing(bridge: string, waitS: number): CaseRun {
    const k = build({ setup: lan({ bridge }) });
    act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    k.run(k.now + waitS * 1e9);
    return act(k, { ping: { from: 'a', to: '10.0.0.2' } });
  }

  it('before ageing_time (1000 cs = 10 s) the entry still forwards to one port', () => {
    const r = secondPing('ip link add br0 type bridge ageing_time 1000', 9);
    expect(portsTx(r, isEchoTo('10.0.0.2'))).toEqual(['veth-b']);
    expect(fdbEvents(r).some((e) => e.startsWith('age'))).toBe(false);
  });

  // b's last frame is its unicast ARP probe 5 s after the first ping (its entry for a went DELAY → PROBE), so b's
  // FDB entry expires 15 s after the ping.
  it('after ageing_time the entry is gone: the frame floods again', () => {
    const r = secondPing('ip link add br0 type bridge ageing_time 1000', 20);
    expect(r.probe.outcome.result).toBe('reachable');
    // No ARP request first: a's neighbour entry for b is still usable; only the bridge forgot.
    expect(arpFrames(r, { ns: 'a', dir: 'tx' }).filter((x) => x.op === 1)).toEqual([]);
    expect(fdbEvents(r)).toContain(`age ${POD_MAC.b} veth-b`);
    expect(portsTx(r, isEchoTo('10.0.0.2')).sort()).toEqual(['veth-b', 'veth-c']);
  });

  it('the default ageing time is 300 s', () => {
    const r = secondPing('ip link add br0 type bridge', 12);
    expect(portsTx(r, isEchoTo('10.0.0.2'))).toEqual(['veth-b']);
  });

  it('`bridge fdb show` no longer lists aged entries', () => {
    const k = build({ setup: lan({ bridge: 'ip link add br0 type bridge ageing_time 1000' }) });
    act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    expect(showFdb(k.root)).toContain(`${POD_MAC.b} dev veth-b master br0 \n`);
    k.run(k.now + 20e9);
    expect(showFdb(k.root)).not.toContain(POD_MAC.b);
    expect(showFdb(k.root)).not.toContain(POD_MAC.a);
  });
});

describe('static and permanent FDB entries', () => {
  const toX = (mac: string) => [`ip -n a neigh add 10.0.0.99 lladdr ${mac} dev eth0 nud permanent`];
  cases([
    {
      name: '`bridge fdb add … master static`: forwarded to that port only, never flooded',
      setup: lan({
        bridge: 'ip link add br0 type bridge ageing_time 1000',
        extra: [...toX('02:00:00:00:00:99'), 'bridge fdb add 02:00:00:00:00:99 dev veth-c master static'],
      }),
      before: (k) => k.run(k.now + 20e9),
      action: { ping: { from: 'a', to: '10.0.0.99', waitNs: 1e9 } },
      expect: { result: 'timeout', drops: [{ reason: 'OTHERHOST', ns: 'c', dev: 'eth0' }] },
      check: (r) => {
        // 20 s after it was added, with a 10 s ageing time: static entries never age.
        expect(portsTx(r, isEchoTo('10.0.0.99'))).toEqual(['veth-c']);
        expect(fdbEvents(r)).toContain('forward 02:00:00:00:00:99 veth-c');
        expect(showFdb(r.k.root)).toContain('02:00:00:00:00:99 dev veth-c master br0 static\n');
      },
    },
    {
      name: 'a permanent entry (the default of `bridge fdb add … master`) is local: the frame goes up to br0',
      setup: lan({ extra: [...toX('02:00:00:00:00:98'), 'bridge fdb add 02:00:00:00:00:98 dev veth-c master'] }),
      action: { ping: { from: 'a', to: '10.0.0.99', waitNs: 1e9 } },
      // Up on br0 the destination MAC is not the bridge's own, so IP ignores it (br_pass_frame_up keeps OTHERHOST).
      expect: { result: 'timeout', via: ['root:br0'], drops: [{ reason: 'OTHERHOST', ns: 'root', dev: 'br0' }] },
      check: (r) => {
        expect(fdbEvents(r)).toContain('local 02:00:00:00:00:98');
        expect(portsTx(r, isEchoTo('10.0.0.99'))).toEqual([]);
        expect(showFdb(r.k.root)).toContain('02:00:00:00:00:98 dev veth-c master br0 permanent\n');
      },
    },
    {
      name: 'a frame to the bridge’s own MAC is delivered locally (ping the bridge address)',
      setup: lan({ extra: ['ip addr add 10.0.0.254/24 dev br0'] }),
      action: { ping: { from: 'a', to: '10.0.0.254' } },
      expect: { result: 'reachable', replyFrom: '10.0.0.254', replyTtl: 64, via: ['root:br0'] },
      check: (r) => {
        expect(portsTx(r, isEchoTo('10.0.0.254'))).toEqual([]);
        expect(fdbEvents(r)).toContain(`local ${PORT_MAC.a}`);
      },
    },
  ]);

  it('a learnt address never replaces a static entry', () => {
    const k = build({ setup: lan({ extra: [`bridge fdb add ${POD_MAC.b} dev veth-c master static`] }) });
    act(k, { ping: { from: 'a', to: '10.0.0.2', waitNs: 1e9 } });
    expect(showFdb(k.root)).toContain(`${POD_MAC.b} dev veth-c master br0 static\n`);
    expect(showFdb(k.root)).not.toContain(`${POD_MAC.b} dev veth-b`);
  });

  it('`bridge fdb add` of an existing entry is refused; del of a missing one too', () => {
    const add = `bridge fdb add 02:00:00:00:00:99 dev veth-c master static`;
    expect(() => build({ setup: lan({ extra: [add, add] }) })).toThrow('RTNETLINK answers: File exists');
    expect(() => build({ setup: lan({ extra: ['bridge fdb del 02:00:00:00:00:99 dev veth-c master'] }) })).toThrow(
      'RTNETLINK answers: No such file or directory',
    );
  });
});

describe('the bridge device', () => {
  function macOf(k: Kernel, dev: string): string {
    return formatMac(k.root.dev(dev).mac);
  }

  it('takes the numerically lowest MAC of its ports, and follows port changes', () => {
    const k = build({ setup: lan() });
    expect(macOf(k, 'br0')).toBe(PORT_MAC.a);
    const k2 = build({ setup: lan({ extra: ['ip link set veth-c address 02:00:00:00:00:01'] }) });
    expect(macOf(k2, 'br0')).toBe('02:00:00:00:00:01');
    const k3 = build({ setup: lan({ extra: ['ip link set veth-a nomaster'] }) });
    expect(macOf(k3, 'br0')).toBe(PORT_MAC.b);
  });

  it('keeps an address set explicitly', () => {
    const k = build({ setup: lan({ extra: ['ip link set br0 address 02:aa:00:00:00:01'] }) });
    expect(macOf(k, 'br0')).toBe('02:aa:00:00:00:01');
  });

  const gateway = (forward: 0 | 1) =>
    lan({
      extra: [
        'ip addr add 10.0.0.254/24 dev br0',
        'ip -n a route add default via 10.0.0.254',
        'ip netns add ext',
        'ip link add veth-x type veth peer name eth0 netns ext',
        'ip addr add 10.1.0.1/24 dev veth-x',
        'ip link set veth-x up',
        'ip -n ext link set eth0 up',
        'ip -n ext addr add 10.1.0.2/24 dev eth0',
        'ip -n ext route add default via 10.1.0.1',
        `sysctl -w net.ipv4.ip_forward=${forward}`,
      ],
    });

  cases([
    {
      name: 'pods reach another subnet through the bridge address as gateway when the node forwards',
      setup: gateway(1),
      action: { ping: { from: 'a', to: '10.1.0.2' } },
      expect: {
        result: 'reachable',
        replyFrom: '10.1.0.2',
        replyTtl: 63,
        via: ['root:veth-a', 'root:br0', 'root:veth-x', 'ext:eth0'],
      },
      check: (r) => {
        // The pod resolved the gateway, not the final destination.
        expect(arpFrames(r, { ns: 'a', dir: 'tx' }).map((x) => x.tpa)).toEqual(['10.0.0.254']);
        // The echo request was not flooded to the other pods: it was for br0's MAC.
        expect(portsTx(r, isEchoTo('10.1.0.2'))).toEqual([]);
      },
    },
    {
      name: 'without ip_forward on the node the pod’s packet dies on br0',
      setup: gateway(0),
      action: { ping: { from: 'a', to: '10.1.0.2' } },
      expect: {
        result: 'timeout',
        drops: [{ reason: 'FORWARDING_DISABLED', ns: 'root', dev: 'br0' }],
        notVia: ['root:veth-x'],
      },
    },
    {
      name: 'a bridge that is down drops what its ports receive',
      setup: lan({ extra: ['ip link set br0 down'] }),
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: {
        result: 'unreachable',
        icmp: 'host-unreachable',
        replyFrom: '10.0.0.1',
        drops: [{ reason: 'BRIDGE_PORT_DOWN', ns: 'root', dev: 'veth-a' }],
        notVia: ['root:veth-b', 'b:eth0'],
      },
    },
  ]);
});

describe('`bridge fdb show` and `ip` text (NOTES §9)', () => {
  // The recorded run, with its MACs, so every line can be compared as printed.
  const setup = [
    'ip netns add a',
    'ip netns add b',
    'ip link add br0 type bridge',
    'ip link add veth-a address 0e:c9:6a:cb:bd:0d type veth peer name eth0 netns a address a6:c9:fd:ab:1d:ba',
    'ip link add veth-b address a2:56:40:25:a6:22 type veth peer name eth0 netns b address 96:b2:5b:fe:e3:23',
    'ip link set veth-a master br0',
    'ip link set veth-b master br0',
    'ip addr add 10.0.0.254/24 dev br0',
    'ip link set br0 up',
    'ip link set veth-a up',
    'ip link set veth-b up',
    'ip -n a link set lo up',
    'ip -n a link set eth0 up',
    'ip -n b link set lo up',
    'ip -n b link set eth0 up',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n b addr add 10.0.0.2/24 dev eth0',
    'ip -n a route add default via 10.0.0.254',
  ];
  /** NOTES text without what podwire does not model: IPv6 multicast groups (33:33:…) and IPv6 addresses. */
  const ipv4Only = (text: string) =>
    text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('33:33:'))
      .map((l) => `${l.replace(/(fe80::|::1\/)\S* /g, '')}\n`)
      .join('');

  function recorded(): Kernel {
    const k = build({ setup });
    const r = act(k, { ping: { from: 'a', to: '10.0.0.2' } });
    expect(r.probe.outcome.result).toBe('reachable');
    return k;
  }

  it('bridge fdb show', () => {
    expect(showFdb(recorded().root)).toBe(
      ipv4Only(`
33:33:00:00:00:01 dev br0 self permanent
01:00:5e:00:00:6a dev br0 self permanent
33:33:00:00:00:6a dev br0 self permanent
01:00:5e:00:00:01 dev br0 self permanent
33:33:ff:cb:bd:0d dev br0 self permanent
a6:c9:fd:ab:1d:ba dev veth-a master br0 
0e:c9:6a:cb:bd:0d dev veth-a master br0 permanent
33:33:00:00:00:01 dev veth-a self permanent
01:00:5e:00:00:01 dev veth-a self permanent
33:33:ff:cb:bd:0d dev veth-a self permanent
96:b2:5b:fe:e3:23 dev veth-b master br0 
a2:56:40:25:a6:22 dev veth-b master br0 permanent
33:33:00:00:00:01 dev veth-b self permanent
01:00:5e:00:00:01 dev veth-b self permanent
33:33:ff:25:a6:22 dev veth-b self permanent
`),
    );
  });

  it('ip -br link / ip -br addr of the initial namespace', () => {
    const k = recorded();
    expect(showLinksBrief(k.root)).toBe(`lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> 
br0              UP             0e:c9:6a:cb:bd:0d <BROADCAST,MULTICAST,UP,LOWER_UP> 
veth-a@if2       UP             0e:c9:6a:cb:bd:0d <BROADCAST,MULTICAST,UP,LOWER_UP> 
veth-b@if2       UP             a2:56:40:25:a6:22 <BROADCAST,MULTICAST,UP,LOWER_UP> 
`);
    expect(showAddrsBrief(k.root)).toBe(
      ipv4Only(`
lo               UNKNOWN        127.0.0.1/8 ::1/128 
br0              UP             10.0.0.254/24 fe80::cc9:6aff:fecb:bd0d/64 
veth-a@if2       UP             fe80::cc9:6aff:fecb:bd0d/64 
veth-b@if2       UP             fe80::a056:40ff:fe25:a622/64 
`),
    );
  });

  it('ip neigh: the bridge’s table is empty, a has b REACHABLE, b has a DELAY', () => {
    const k = recorded();
    expect(showNeigh(k.root)).toBe('');
    expect(showNeigh(k.netns('a'))).toBe('10.0.0.2 dev eth0 lladdr 96:b2:5b:fe:e3:23 REACHABLE \n');
    expect(showNeigh(k.netns('b'))).toBe('10.0.0.1 dev eth0 lladdr a6:c9:fd:ab:1d:ba DELAY \n');
  });

  it('ip -n a -br link / addr', () => {
    const k = recorded();
    expect(showLinksBrief(k.netns('a'))).toBe(`lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> 
eth0@if3         UP             a6:c9:fd:ab:1d:ba <BROADCAST,MULTICAST,UP,LOWER_UP> 
`);
    expect(showAddrsBrief(k.netns('a'))).toBe(
      ipv4Only(`
lo               UNKNOWN        127.0.0.1/8 ::1/128 
eth0@if3         UP             10.0.0.1/24 fe80::a4c9:fdff:feab:1dba/64 
`),
    );
  });
});

describe('deleting and moving the bridge', () => {
  it('releases every port when the bridge is deleted, as br_dev_delete does', () => {
    const k = build({ setup: lan({ extra: ['ip link del br0'] }) });
    expect(k.root.devs.has('br0')).toBe(false);
    for (const p of ['veth-a', 'veth-b', 'veth-c']) {
      const dev = k.root.dev(p);
      expect(dev.master, p).toBeNull();
      expect(dev.rxHandler, p).toBeNull();
    }
    // The former ports are plain devices again: one can be enslaved to a new bridge.
    const k2 = build({
      setup: lan({ extra: ['ip link del br0', 'ip link add br1 type bridge', 'ip link set veth-a master br1'] }),
    });
    expect(k2.root.dev('veth-a').master?.name).toBe('br1');
  });

  it('refuses to move a bridge to another namespace (NETIF_F_NETNS_LOCAL)', () => {
    expect(() => build({ setup: lan({ extra: ['ip netns add other', 'ip link set br0 netns other'] }) })).toThrow(
      'RTNETLINK answers: Invalid argument',
    );
  });
});
