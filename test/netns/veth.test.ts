// veth pairs: carrier follows the peer (NO-CARRIER / LOWERLAYERDOWN, drops, `linkdown` routes), interface indexes
// when created and moved between namespaces (`eth0@ifN`), losing addresses on a move, renaming, MTU limits, and
// deleting either end. The `ip -br link` sequence is tools/kernel-lab/NOTES.md §10, replayed command for command.

import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/index.js';
import { showAddrsBrief, showLinksBrief, showRoutes, topology } from '../../src/index.js';
import { applyCommand } from '../../src/scenario/apply.js';
import { parseCommands } from '../../src/scenario/commands/parse.js';
import { textSource } from '../../src/scenario/commands/tokenize.js';
import { cases } from './harness.js';

/** `ip -br link` with the MAC column blanked (MACs are random), so lines compare with NOTES.md by shape. */
function brLink(k: Kernel, ns: string): string {
  return showLinksBrief(k.netns(ns)).replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, (m) =>
    m === '00:00:00:00:00:00' ? m : 'MAC',
  );
}

/** The same for NOTES.md's text. */
function notes(text: string): string {
  return text
    .trim()
    .split('\n')
    .map(
      (l) =>
        `${l.trimEnd().replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, (m) => (m === '00:00:00:00:00:00' ? m : 'MAC'))} \n`,
    )
    .join('');
}

function run(k: Kernel, line: string): void {
  for (const cmd of parseCommands(textSource(line, '<test>', 1, 1))) applyCommand(k, cmd);
  k.run(k.now);
}

describe('carrier', () => {
  const setup = [
    'ip netns add a',
    'ip netns add b',
    'ip link add eth0 netns a type veth peer name eth0 netns b',
    'ip -n a addr add 10.0.0.1/24 dev eth0',
    'ip -n b addr add 10.0.0.2/24 dev eth0',
    'ip -n a link set lo up',
    'ip -n a link set eth0 up',
  ];

  it('one end up, the peer down: NO-CARRIER, and the route through it is `linkdown`', () => {
    const k = topology(setup);
    // Both ends are ifindex 2, so linkwatch finds the end itself at the peer's index: DOWN, not LOWERLAYERDOWN.
    expect(brLink(k, 'a')).toBe(
      notes(`
lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>
eth0@if2         DOWN           26:bb:03:db:10:0d <NO-CARRIER,BROADCAST,MULTICAST,UP>`),
    );
    expect(showRoutes(k.netns('a'))).toBe('10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 linkdown \n');
  });

  cases([
    {
      name: 'peer down: nothing leaves (NO_CARRIER, never seen by tcpdump), ARP fails, host unreachable locally',
      setup,
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: {
        result: 'unreachable',
        icmp: 'host-unreachable',
        replyFrom: '10.0.0.1',
        drops: [{ reason: 'NO_CARRIER', ns: 'a', dev: 'eth0' }],
        notVia: ['b:eth0'],
      },
      check: (r) => {
        expect(r.frames.filter((f) => f.dev === 'eth0')).toEqual([]);
        expect(r.k.netns('a').dev('eth0').stats.txDropped).toBe(3);
      },
    },
    {
      name: 'both ends up: the same ping gets through',
      setup: [...setup, 'ip -n b link set eth0 up'],
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'reachable', noDrops: ['NO_CARRIER', 'DEV_DOWN'] },
    },
    {
      name: 'the sending end down: its routes are gone, so the client fails locally',
      setup: [...setup, 'ip -n b link set eth0 up', 'ip -n a link set eth0 down'],
      action: { ping: { from: 'a', to: '10.0.0.2' } },
      expect: { result: 'unreachable', lines: ['ping: connect: Network is unreachable'] },
    },
  ]);
});

describe('ifindex, naming and moves (NOTES §10)', () => {
  it('replays the recorded sequence and prints the same `ip -br link`', () => {
    const k = topology(['ip netns add x', 'ip netns add y', 'ip netns add z']);
    run(k, 'ip netns exec x ip link add p0 type veth peer name p1');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p1@p0            DOWN           7a:00:0b:8d:c1:64 <BROADCAST,MULTICAST,M-DOWN>
p0@p1            DOWN           c2:7c:d9:81:57:7f <BROADCAST,MULTICAST,M-DOWN>`),
    );
    run(k, 'ip -n x link set p1 netns y');
    expect(brLink(k, 'y')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p1@if3           DOWN           7a:00:0b:8d:c1:64 <BROADCAST,MULTICAST>`),
    );
    run(k, 'ip -n x link add q0 type veth peer name q1');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p0@if2           DOWN           c2:7c:d9:81:57:7f <BROADCAST,MULTICAST>
q1@q0            DOWN           8a:90:70:8b:c3:28 <BROADCAST,MULTICAST,M-DOWN>
q0@q1            DOWN           b2:37:e6:72:d7:06 <BROADCAST,MULTICAST,M-DOWN>`),
    );
    run(k, 'ip -n z link add zz0 type veth peer name zz1');
    run(k, 'ip -n z link add zz2 type veth peer name zz3');
    run(k, 'ip -n x link set q1 netns z');
    expect(brLink(k, 'z')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
zz1@zz0          DOWN           4a:92:64:fb:d6:08 <BROADCAST,MULTICAST,M-DOWN>
zz0@zz1          DOWN           ce:59:de:9f:6d:f0 <BROADCAST,MULTICAST,M-DOWN>
zz3@zz2          DOWN           fa:f6:0b:96:4a:73 <BROADCAST,MULTICAST,M-DOWN>
zz2@zz3          DOWN           ee:c0:d3:9d:07:10 <BROADCAST,MULTICAST,M-DOWN>
q1@if5           DOWN           8a:90:70:8b:c3:28 <BROADCAST,MULTICAST>`),
    );
    run(k, 'ip -n x link set p0 up');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p0@if2           LOWERLAYERDOWN c2:7c:d9:81:57:7f <NO-CARRIER,BROADCAST,MULTICAST,UP>
q0@if6           DOWN           b2:37:e6:72:d7:06 <BROADCAST,MULTICAST>`),
    );
    run(k, 'ip -n y link set p1 up');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p0@if2           UP             c2:7c:d9:81:57:7f <BROADCAST,MULTICAST,UP,LOWER_UP>
q0@if6           DOWN           b2:37:e6:72:d7:06 <BROADCAST,MULTICAST>`),
    );
    expect(brLink(k, 'y')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p1@if3           UP             7a:00:0b:8d:c1:64 <BROADCAST,MULTICAST,UP,LOWER_UP>`),
    );
    // Renamed while up: Linux 6.2+ allows it (NOTES §10 did exactly this).
    run(k, 'ip -n y link set p1 name eth0');
    expect(brLink(k, 'y')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
eth0@if3         UP             7a:00:0b:8d:c1:64 <BROADCAST,MULTICAST,UP,LOWER_UP>`),
    );
    run(k, 'ip -n y link del eth0');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
q0@if6           DOWN           b2:37:e6:72:d7:06 <BROADCAST,MULTICAST>`),
    );
  });

  it('indexes are never reused while the namespace lives', () => {
    const k = topology(['ip netns add x', 'ip netns add y', 'ip -n x link add p0 type veth peer name p1']);
    run(k, 'ip -n x link set p1 netns y');
    run(k, 'ip -n x link add q0 type veth peer name q1');
    expect(k.netns('x').dev('q1').ifindex).toBe(4);
    expect(k.netns('x').dev('q0').ifindex).toBe(5);
  });

  it('`peer … netns` creates the peer directly there, with that namespace’s next index', () => {
    const k = topology(['ip netns add a', 'ip link add veth-a type veth peer name eth0 netns a']);
    expect(k.netns('a').dev('eth0').ifindex).toBe(2);
    expect(k.root.dev('veth-a').displayName()).toBe('veth-a@if2');
    expect(k.netns('a').dev('eth0').displayName()).toBe(`eth0@if${k.root.dev('veth-a').ifindex}`);
  });

  it('a moved device is down and has lost its addresses and routes', () => {
    const k = topology([
      'ip netns add a',
      'ip link add veth-a type veth peer name eth0',
      'ip addr add 10.0.0.1/24 dev eth0',
      'ip link set eth0 up',
      'ip link set veth-a up',
      'ip link set eth0 netns a',
    ]);
    expect(showAddrsBrief(k.netns('a'))).toBe('lo               DOWN           \neth0@if3         DOWN           \n');
    expect(showRoutes(k.root)).toBe('');
    // Checked in a real namespace: index 2 (where the peer was) is free in the old namespace now, so DOWN.
    expect(showLinksBrief(k.root)).toMatch(/^veth-a@if2 +DOWN +\S+ <NO-CARRIER,BROADCAST,MULTICAST,UP> $/m);
  });

  it('LOWERLAYERDOWN is decided at the carrier loss: peer taken down beside it vs peer moved away (real Linux)', () => {
    const k = topology(['ip netns add x', 'ip netns add y', 'ip -n x link add p0 type veth peer name p1']);
    run(k, 'ip -n x link set p0 up');
    run(k, 'ip -n x link set p1 up');
    run(k, 'ip -n x link set p1 down');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p1@p0            DOWN           0a:6a:1e:a2:7e:bd <BROADCAST,MULTICAST>
p0@p1            LOWERLAYERDOWN 0a:3f:15:7d:fb:7a <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN>`),
    );
    run(k, 'ip -n x link set p1 up');
    run(k, 'ip -n x link set p1 netns y');
    expect(brLink(k, 'x')).toBe(
      notes(`
lo               DOWN           00:00:00:00:00:00 <LOOPBACK>
p0@if2           DOWN           0a:3f:15:7d:fb:7a <NO-CARRIER,BROADCAST,MULTICAST,UP>`),
    );
    run(k, 'ip -n x link add q0 type veth peer name q1');
    run(k, 'ip -n x link set q0 up');
    expect(brLink(k, 'x')).toMatch(/^q0@q1 +LOWERLAYERDOWN +MAC <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> $/m);
  });

  it('an unrelated device with carrier at the peer’s index gives DOWN (a bridge port, checked in real Linux)', () => {
    const k = topology([
      'ip netns add b',
      'ip link add br0 type bridge',
      'ip link set br0 up',
      'ip link add veth-a type veth peer name eth0 netns b',
      'ip link set veth-a master br0',
      'ip link set veth-a up',
    ]);
    expect(brLink(k, 'root')).toBe(
      notes(`
lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>
br0              DOWN           fa:2a:f4:86:7e:3d <NO-CARRIER,BROADCAST,MULTICAST,UP>
veth-a@if2       DOWN           fa:2a:f4:86:7e:3d <NO-CARRIER,BROADCAST,MULTICAST,UP>`),
    );
  });
});

describe('link refusals and deletion', () => {
  const base = ['ip netns add a', 'ip netns add b', 'ip link add eth0 netns a type veth peer name eth0 netns b'];
  const refused: { name: string; lines: string[]; error: string }[] = [
    {
      name: 'MTU above the veth maximum',
      lines: ['ip -n a link set eth0 mtu 70000'],
      error: 'Error: mtu greater than device maximum.',
    },
    { name: 'MTU below 68', lines: ['ip -n a link set eth0 mtu 60'], error: 'Error: mtu less than device minimum.' },
    {
      name: 'renaming onto an existing name',
      lines: ['ip -n a link add p0 type veth peer name p1', 'ip -n a link set p0 name eth0'],
      error: 'RTNETLINK answers: File exists',
    },
    {
      name: 'a device name that exists',
      lines: ['ip -n a link add eth0 type veth peer name x1'],
      error: 'RTNETLINK answers: File exists',
    },
    {
      name: 'moving onto a name taken there',
      lines: ['ip -n a link set eth0 netns b'],
      error: 'RTNETLINK answers: File exists',
    },
    { name: 'an unknown device', lines: ['ip -n a link set eth9 up'], error: 'Cannot find device "eth9"' },
  ];
  for (const c of refused)
    it(`refuses: ${c.name}`, () => {
      expect(() => topology([...base, ...c.lines])).toThrow(c.error);
    });

  it('accepts the MTU limits 68 and 65535', () => {
    const k = topology([...base, 'ip -n a link set eth0 mtu 68', 'ip -n b link set eth0 mtu 65535']);
    expect(k.netns('a').dev('eth0').mtu).toBe(68);
    expect(k.netns('b').dev('eth0').mtu).toBe(65535);
  });

  it('renames a device that is down, and one that is up (Linux ≥ 6.2)', () => {
    const k = topology([
      ...base,
      'ip -n a link set eth0 name net0',
      'ip -n b link set eth0 up',
      'ip -n b link set eth0 name net1',
    ]);
    expect(k.netns('a').dev('net0').ifindex).toBe(2);
    expect(k.netns('b').dev('net1').adminUp).toBe(true);
    expect(k.netns('a').dev('net0').displayName()).toBe('net0@if2');
  });

  it('deleting either end deletes both', () => {
    const k = topology([...base, 'ip -n b link del eth0']);
    expect([...k.netns('a').devs.keys()]).toEqual(['lo']);
    expect([...k.netns('b').devs.keys()]).toEqual(['lo']);
  });

  it('deleting a namespace takes the peers of its veths with it', () => {
    const k = topology(['ip netns add a', 'ip link add veth-a type veth peer name eth0 netns a', 'ip netns del a']);
    expect([...k.root.devs.keys()]).toEqual(['lo']);
  });
});
