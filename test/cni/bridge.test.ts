// The bridge plugin on an emulated node: what ADD builds (bridge, veths, addresses, routes, masquerade rules with the
// reference's chain names, computed here independently from its algorithm), that pods then reach each other, the
// node and — masqueraded — the outside, that DEL takes away exactly what ADD added, and what CHECK reports.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Bridge } from '../../src/bridge/bridge.js';
import { MemFs } from '../../src/cni/fs.js';
import { bridgePlugin } from '../../src/cni/plugins/bridge.js';
import { addNetworkList, checkNetworkList, delNetworkList, netnsPath } from '../../src/cni/runtime.js';
import { CniError, type NetConf, type Result, type RuntimeInputs } from '../../src/cni/types.js';
import {
  iptablesSave,
  type Kernel,
  type NetNs,
  parseIpv4,
  ping,
  runUntilDone,
  showAddrsBrief,
  showLinksBrief,
  showRoutes,
  topology,
  UdpClient,
} from '../../src/index.js';
import { delAddr } from '../../src/netns/ifaddr.js';
import { linkDelete, linkSetNomaster } from '../../src/netns/link.js';

/** The reference's chain name: "CNI-" + hex sha512(network name + container ID), 28 characters in all. */
function chainName(net: string, id: string): string {
  return `CNI-${createHash('sha512')
    .update(net + id)
    .digest('hex')}`.slice(0, 28);
}

function node(extra: string[] = []): Kernel {
  return topology(
    [
      'ip netns add pod1',
      'ip netns add pod2',
      'ip netns add outside',
      'ip link add eth0 type veth peer name eth0 netns outside',
      'ip addr add 192.168.50.2/24 dev eth0',
      'ip link set eth0 up',
      'ip netns exec outside ip addr add 192.168.50.1/24 dev eth0',
      'ip netns exec outside ip link set eth0 up',
      'ip netns exec outside ip link set lo up',
      ...extra,
    ],
    { seed: 7 },
  );
}

function envOf(k: Kernel) {
  return { kernel: k, host: k.root, fs: new MemFs() };
}

function rt(ns: NetNs, id: string, ifName = 'eth0', args: Record<string, string> = {}): RuntimeInputs {
  return { containerId: id, netns: ns, ifName, args, capabilityArgs: {} };
}

function mynet(extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}): NetConf {
  return {
    cniVersion: '1.0.0',
    name: 'mynet',
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipMasq: true,
    ...extra,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.22.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }], ...ipam },
  };
}

function cniError(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

/** Everything ADD/DEL may change on the node and in a pod, as the commands print it. */
function snapshot(k: Kernel, ...pods: NetNs[]): string {
  k.run(k.now);
  let s = iptablesSave(k.root, { date: null }) + showLinksBrief(k.root) + showAddrsBrief(k.root) + showRoutes(k.root);
  s += `ip_forward=${k.root.sysctl.get('net.ipv4.ip_forward')}\n`;
  for (const p of pods) s += `# ${p.name}\n${showLinksBrief(p)}${showAddrsBrief(p)}${showRoutes(p, 'all')}`;
  return s;
}

const C1 = 'ctr-3f1a8c2e9b7d';
const C2 = 'ctr-b81c55e0f2a4';

describe('bridge ADD', () => {
  it('gives two pods addresses behind cni0 and the reference masquerade rules, rule for rule', () => {
    const k = node();
    const env = envOf(k);
    const [p1, p2] = [k.netns('pod1'), k.netns('pod2')];
    const r1 = bridgePlugin.add(mynet(), rt(p1, C1), env);
    const r2 = bridgePlugin.add(mynet(), rt(p2, C2), env);
    const comment = (id: string) => `"name: \\"mynet\\" id: \\"${id}\\""`;
    const [h1, h2] = [chainName('mynet', C1), chainName('mynet', C2)];
    expect(h1).toBe('CNI-77568de0eea4871a53780d5a');
    const userChains = [h1, h2].sort();
    const chainRules = (h: string, id: string) => [
      `-A ${h} -d 10.22.0.0/16 -m comment --comment ${comment(id)} -j ACCEPT`,
      `-A ${h} ! -d 224.0.0.0/4 -m comment --comment ${comment(id)} -j MASQUERADE`,
    ];
    const byChain = new Map([
      [h1, chainRules(h1, C1)],
      [h2, chainRules(h2, C2)],
    ]);
    expect(iptablesSave(k.root, { date: null })).toBe(
      [
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':INPUT ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ...userChains.map((c) => `:${c} - [0:0]`),
        `-A POSTROUTING -s 10.22.0.2/32 -m comment --comment ${comment(C1)} -j ${h1}`,
        `-A POSTROUTING -s 10.22.0.3/32 -m comment --comment ${comment(C2)} -j ${h2}`,
        ...userChains.flatMap((c) => byChain.get(c)!),
        'COMMIT',
        '',
      ].join('\n'),
    );

    const br = k.root.dev('cni0') as Bridge;
    const host1 = k.root.dev(r1.interfaces![1]!.name);
    const eth0 = p1.dev('eth0');
    expect(r1).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cni0', mac: fmtMac(br.mac) },
        { name: host1.name, mac: fmtMac(host1.mac) },
        { name: 'eth0', mac: fmtMac(eth0.mac), sandbox: '/var/run/netns/pod1' },
      ],
      ips: [{ interface: 2, address: '10.22.0.2/16', gateway: '10.22.0.1' }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
    expect(Object.keys(r1)).toEqual(['cniVersion', 'interfaces', 'ips', 'routes', 'dns']);
    expect(Object.keys(r1.ips![0]!)).toEqual(['interface', 'address', 'gateway']);
    expect(host1.name).toMatch(/^veth[0-9a-f]{8}$/);
    expect(r2.interfaces![1]!.name).not.toBe(host1.name);
    expect(host1.master).toBe(br);
    expect(br.ports.get(host1)!.hairpin).toBe(false);
    expect(netnsPath(p2)).toBe(r2.interfaces![2]!.sandbox);
    // The bridge keeps the MAC it was created with (ensureAddr pins it), not its lowest port's.
    expect(br.macSet).toBe(true);
    expect(showAddrsBrief(k.root)).toContain('cni0             UP             10.22.0.1/16 \n');
    expect(showRoutes(p1)).toBe(
      'default via 10.22.0.1 dev eth0 \n10.22.0.0/16 dev eth0 proto kernel scope link src 10.22.0.2 \n',
    );
    expect(showLinksBrief(p1)).toMatch(/^eth0@if\d+ +UP /m);
    expect(k.root.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    // host-local recorded the addresses in the node's files.
    expect(env.fs.read('/var/lib/cni/networks/mynet/10.22.0.2')).toContain(C1);
  });

  it('lets pods reach each other and the node, and masquerades what leaves the node', () => {
    const k = node();
    const env = envOf(k);
    const [p1, p2, out] = [k.netns('pod1'), k.netns('pod2'), k.netns('outside')];
    bridgePlugin.add(mynet(), rt(p1, C1), env);
    bridgePlugin.add(mynet(), rt(p2, C2), env);
    expect(runUntilDone(k, ping(p1, parseIpv4('10.22.0.3')!, { count: 1 })).outcome?.result).toBe('reachable');
    expect(runUntilDone(k, ping(p2, parseIpv4('10.22.0.1')!, { count: 1 })).outcome?.result).toBe('reachable');
    expect(runUntilDone(k, ping(k.root, parseIpv4('10.22.0.2')!, { count: 1 })).outcome?.result).toBe('reachable');

    const listener = out.sockets.listen('udp', 5353, new TextEncoder().encode('pong'));
    const before = k.tracer.events.length;
    const c = new UdpClient(p1, parseIpv4('192.168.50.1')!, 5353, new TextEncoder().encode('ping'), null, 1e9);
    const probe = runUntilDone(k, c.start());
    expect(probe.outcome?.result).toBe('reachable');
    expect(probe.outcome?.replyFrom).toBe('192.168.50.1');
    expect(listener.served).toBe(1);
    const seen = k.tracer.events
      .slice(before)
      .filter((e) => e.ns === 'outside' && e.type === 'sock')
      .map((e) => (e as unknown as { detail: string }).detail);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/from 192\.168\.50\.2:\d+/);
    // The rule that did it: the pod's own chain.
    const save = iptablesSave(k.root, { counters: true, date: null });
    expect(save).toMatch(
      new RegExp(`\\[1:\\d+\\] -A ${chainName('mynet', C1)} ! -d 224\\.0\\.0\\.0/4 .* -j MASQUERADE`),
    );
  });

  it('without ipMasq the outside never hears of the pod subnet: no reply comes back', () => {
    const k = node();
    const env = envOf(k);
    const p1 = k.netns('pod1');
    bridgePlugin.add(mynet({ ipMasq: false }), rt(p1, C1), env);
    expect(iptablesSave(k.root)).toBe('');
    expect(runUntilDone(k, ping(p1, parseIpv4('192.168.50.1')!, { count: 1 })).outcome?.result).not.toBe('reachable');
  });

  it('isDefaultGateway adds the default route through the computed gateway; mtu and hairpin reach the links', () => {
    const k = node();
    const env = envOf(k);
    const p1 = k.netns('pod1');
    const conf: NetConf = {
      cniVersion: '1.0.0',
      name: 'k8s',
      type: 'bridge',
      bridge: 'cbr0',
      isDefaultGateway: true,
      mtu: 1450,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.254' }]] },
    };
    const r = bridgePlugin.add(conf, rt(p1, 'c1', 'eth1'), env);
    // host-local starts at the subnet's first address when the gateway is elsewhere.
    expect(r.ips).toEqual([{ interface: 2, address: '10.244.1.1/24', gateway: '10.244.1.254' }]);
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.254' }]);
    expect(showRoutes(p1)).toContain('default via 10.244.1.254 dev eth1 \n');
    const br = k.root.dev('cbr0') as Bridge;
    expect(showAddrsBrief(k.root)).toContain('10.244.1.254/24');
    const hostEnd = k.root.dev(r.interfaces![1]!.name);
    expect([br.mtu, hostEnd.mtu, p1.dev('eth1').mtu]).toEqual([1450, 1450, 1450]);
    expect(br.ports.get(hostEnd)!.hairpin).toBe(true);
    expect(br.promisc).toBe(false);
    expect(iptablesSave(k.root)).toBe('');
  });

  it('isGateway without IPAM routes: no routes in the result, no default route in the pod, gateway .1', () => {
    const k = node();
    const p1 = k.netns('pod1');
    const r = bridgePlugin.add(mynet({ ipMasq: false }, { routes: null }), rt(p1, C1), envOf(k));
    expect(Object.keys(r)).toEqual(['cniVersion', 'interfaces', 'ips', 'dns']);
    expect(showRoutes(p1)).toBe('10.22.0.0/16 dev eth0 proto kernel scope link src 10.22.0.2 \n');
  });

  it('without isGateway the bridge gets no address and forwarding stays off', () => {
    const k = node();
    const p1 = k.netns('pod1');
    const r = bridgePlugin.add(mynet({ isGateway: false, ipMasq: false }, { routes: null }), rt(p1, C1), envOf(k));
    // host-local still reports its gateway; the plugin only computes one when isGateway is set.
    expect(r.ips).toEqual([{ interface: 2, address: '10.22.0.2/16', gateway: '10.22.0.1' }]);
    expect(k.root.addrsOf(k.root.dev('cni0'))).toEqual([]);
    expect(k.root.sysctl.get('net.ipv4.ip_forward')).toBe('0');
    expect((k.root.dev('cni0') as Bridge).macSet).toBe(false);
  });

  it('a bridge address of another subnet is an error unless forceAddress, which replaces it', () => {
    const k = node(['ip link add cni0 type bridge', 'ip addr add 10.9.0.1/24 dev cni0']);
    const env = envOf(k);
    const e = cniError(() => bridgePlugin.add(mynet({ ipMasq: false }), rt(k.netns('pod1'), C1), env));
    expect(e.code).toBe(999);
    expect(e.message).toBe('failed to set bridge addr: "cni0" already has an IP address different from 10.22.0.1/16');
    // The address went back to host-local; the interfaces stay (the runtime's DEL removes them).
    expect(env.fs.exists('/var/lib/cni/networks/mynet/10.22.0.2')).toBe(false);
    expect(k.netns('pod1').devs.has('eth0')).toBe(true);
    bridgePlugin.add(mynet({ ipMasq: false, forceAddress: true }), rt(k.netns('pod2'), C2), env);
    expect(k.root.addrsOf(k.root.dev('cni0')).map((a) => `${a.addr >>> 24}.x/${a.len}`)).toEqual(['10.x/16']);
    expect(showAddrsBrief(k.root)).toContain('cni0             UP             10.22.0.1/16 \n');
  });

  it('a device named like the bridge that is not a bridge is refused', () => {
    const k = node(['ip link add cni0 type dummy']);
    expect(cniError(() => bridgePlugin.add(mynet(), rt(k.netns('pod1'), C1), envOf(k))).message).toBe(
      'failed to create bridge "cni0": "cni0" already exists but is not a bridge',
    );
  });

  it('an existing container interface name is the reference error', () => {
    const k = node(['ip netns exec pod1 ip link add eth0 type dummy']);
    expect(cniError(() => bridgePlugin.add(mynet(), rt(k.netns('pod1'), C1), envOf(k))).message).toMatch(
      /^container veth name \("eth0"\) peer provided \("veth[0-9a-f]{8}"\) already exists$/,
    );
  });

  it('layer 2 only: no IPAM, the container end is up, promiscMode on the bridge', () => {
    const k = node();
    const p1 = k.netns('pod1');
    const r = bridgePlugin.add(
      { cniVersion: '1.0.0', name: 'l2', type: 'bridge', bridge: 'br-l2', promiscMode: true },
      rt(p1, 'c'),
      envOf(k),
    );
    expect(Object.keys(r)).toEqual(['cniVersion', 'interfaces', 'dns']);
    expect(p1.dev('eth0').adminUp).toBe(true);
    const br = k.root.dev('br-l2') as Bridge;
    expect(br.promisc).toBe(true);
    // Never pinned: the bridge took its only port's MAC.
    expect(r.interfaces![0]!.mac).toBe(r.interfaces![1]!.mac);
  });

  it('disableContainerInterface leaves the container end down (layer 2), and refuses IPAM', () => {
    const k = node();
    const env = envOf(k);
    const p1 = k.netns('pod1');
    bridgePlugin.add(
      { cniVersion: '1.0.0', name: 'l2', type: 'bridge', disableContainerInterface: true },
      rt(p1, 'c'),
      env,
    );
    expect(p1.dev('eth0').adminUp).toBe(false);
    expect(
      cniError(() => bridgePlugin.add(mynet({ disableContainerInterface: true }), rt(k.netns('pod2'), C2), env))
        .message,
    ).toBe('cannot use IPAM when DisableContainerInterface flag is set');
  });

  it('takes the container MAC from CNI_ARGS, args.cni and runtimeConfig, the last winning', () => {
    const k = node();
    const env = envOf(k);
    const r1 = bridgePlugin.add(
      mynet(),
      rt(k.netns('pod1'), C1, 'eth0', { IgnoreUnknown: '1', K8S_POD_NAME: 'a', MAC: '0a:58:0a:16:00:02' }),
      env,
    );
    expect(r1.interfaces![2]!.mac).toBe('0a:58:0a:16:00:02');
    expect(k.netns('pod1').dev('eth0').mac).toBe(0x0a580a160002);
    const conf = {
      ...mynet(),
      args: { cni: { mac: '0a:58:0a:16:00:03' } },
      runtimeConfig: { mac: '0a-58-0a-16-00-04' },
    };
    const r2 = bridgePlugin.add(
      conf,
      rt(k.netns('pod2'), C2, 'eth0', { IgnoreUnknown: 'true', MAC: '0a:58:0a:16:00:09' }),
      env,
    );
    expect(r2.interfaces![2]!.mac).toBe('0a:58:0a:16:00:04');
    expect(
      cniError(() => bridgePlugin.add(mynet(), rt(k.netns('pod2'), 'x', 'eth1', { K8S_POD_NAME: 'a' }), env)).message,
    ).toBe('ARGS: unknown args ["K8S_POD_NAME=a"]');
  });

  it('DNS of the configuration replaces what IPAM gave', () => {
    const k = node();
    const conf = { ...mynet(), dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] } };
    const r = bridgePlugin.add(conf, rt(k.netns('pod1'), C1), envOf(k));
    expect(r.dns).toEqual({ nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] });
  });

  it('refuses what podwire does not model, and option clashes, with clear errors before touching anything', () => {
    const k = node();
    const env = envOf(k);
    const p1 = k.netns('pod1');
    const before = snapshot(k, p1);
    let n = 0;
    const msg = (extra: Record<string, unknown>) =>
      cniError(() => bridgePlugin.add(mynet(extra), rt(p1, C1, `eth${n++}`), env)).message;
    expect(msg({ vlan: 100 })).toMatch(/^vlan 100 is not supported by podwire/);
    expect(msg({ vlan: 5000 })).toBe('invalid VLAN ID 5000 (must be between 0 and 4094)');
    expect(msg({ vlanTrunk: [{ id: 5 }] })).toMatch(/^vlanTrunk is not supported/);
    expect(msg({ macspoofchk: true })).toMatch(/^macspoofchk is not supported/);
    expect(msg({ portIsolation: true })).toMatch(/^portIsolation is not supported/);
    expect(msg({ hairpinMode: true, promiscMode: true })).toBe(
      'cannot set hairpin mode and promiscuous mode at the same time',
    );
    expect(msg({ isGateway: 'yes' })).toBe(
      'failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.isGateway of type bool',
    );
    expect(msg({ ipMasqBackend: 'nftables' })).toMatch(/^ipMasqBackend "nftables" is not supported/);
    expect(snapshot(k, p1)).toBe(before);
    // Checked where the reference checks it: after the interfaces exist (and IPAM is released on failure).
    expect(msg({ ipMasqBackend: 'pf' }).split('\n')[0]).toBe('unknown ipmasq backend "pf"');
    expect(env.fs.list('/var/lib/cni/networks/mynet').filter((f) => /^\d/.test(f))).toEqual([]);
  });

  it('names host veths from the seeded PRNG: same seed, same names', () => {
    const names = () => {
      const k = node();
      return bridgePlugin.add(mynet(), rt(k.netns('pod1'), C1), envOf(k)).interfaces![1]!.name;
    };
    expect(names()).toBe(names());
  });
});

describe('bridge DEL', () => {
  it('removes exactly what ADD made for a pod (links, addresses, routes, rules)', () => {
    const k = node();
    const env = envOf(k);
    const [p1, p2] = [k.netns('pod1'), k.netns('pod2')];
    bridgePlugin.add(mynet(), rt(p1, C1), env);
    const before = snapshot(k, p1, p2);
    const files = env.fs.list('/var/lib/cni/networks/mynet');
    bridgePlugin.add(mynet(), rt(p2, C2), env);
    expect(snapshot(k, p1, p2)).not.toBe(before);
    bridgePlugin.del(mynet(), rt(p2, C2), env);
    expect(snapshot(k, p1, p2)).toBe(before);
    expect(env.fs.list('/var/lib/cni/networks/mynet')).toEqual(files);
    // Again: nothing left to remove is not an error.
    bridgePlugin.del(mynet(), rt(p2, C2), env);
    expect(snapshot(k, p1, p2)).toBe(before);
  });

  it('tolerates a deleted namespace (releases the address only)', () => {
    const k = node();
    const env = envOf(k);
    const p2 = k.netns('pod2');
    bridgePlugin.add(mynet(), rt(p2, C2), env);
    k.delNetns('pod2');
    bridgePlugin.del(mynet(), rt(p2, C2), env);
    expect(env.fs.exists('/var/lib/cni/networks/mynet/10.22.0.2')).toBe(false);
    // The interface went with the namespace, so there were no addresses to learn the rules from: they stay.
    expect(iptablesSave(k.root)).toContain(chainName('mynet', C2));
  });

  it('when the interface is already gone, leaves the masquerade rules as the reference does', () => {
    const k = node();
    const env = envOf(k);
    const p1 = k.netns('pod1');
    bridgePlugin.add(mynet(), rt(p1, C1), env);
    const rules = iptablesSave(k.root);
    linkDelete(p1.dev('eth0'));
    bridgePlugin.del(mynet(), rt(p1, C1), env);
    expect(iptablesSave(k.root)).toBe(rules);
    expect(env.fs.exists('/var/lib/cni/networks/mynet/10.22.0.2')).toBe(false);
  });
});

describe('bridge CHECK', () => {
  function added() {
    const k = node();
    const env = envOf(k);
    const p1 = k.netns('pod1');
    const r = bridgePlugin.add(mynet(), rt(p1, C1), env);
    const check = (prev: Result | null = r, conf: NetConf = mynet()) =>
      bridgePlugin.check({ ...conf, ...(prev ? { prevResult: prev } : {}) }, rt(p1, C1), env);
    return { k, env, p1, r, check };
  }

  it('passes on what ADD made', () => {
    const { check } = added();
    expect(() => check()).not.toThrow();
  });

  it('reports a missing container interface', () => {
    const { p1, check } = added();
    linkDelete(p1.dev('eth0'));
    const e = cniError(() => check());
    expect([e.code, e.message]).toEqual([999, 'Interface name eth0 not found']);
  });

  it('reports a missing route, address, veth, and mismatched bridge state with the reference messages', () => {
    const t1 = added();
    t1.p1.fib.removeWhere((r) => r.len === 0);
    expect(cniError(() => t1.check()).message).toBe(
      'Expected Route {Dst:{IP:0.0.0.0 Mask:00000000} GW:<nil> MTU:0 AdvMSS:0 Priority:0 Table:<nil> Scope:<nil>} not found in routing table',
    );

    const t2 = added();
    delAddr(t2.p1, t2.p1.dev('eth0'), parseIpv4('10.22.0.2')!, 16);
    expect(cniError(() => t2.check()).message).toBe('Failed to match addr 10.22.0.2/16 on interface eth0');

    const t3 = added();
    linkSetNomaster(t3.k.root.dev(t3.r.interfaces![1]!.name));
    expect(cniError(() => t3.check()).message).toBe('CNI veth created for bridge cni0 was not found');

    const t4 = added();
    const wrongMac = {
      ...t4.r,
      interfaces: [{ name: 'cni0', mac: '02:00:00:00:00:01' }, ...t4.r.interfaces!.slice(1)],
    };
    expect(cniError(() => t4.check(wrongMac)).message).toBe(
      "Bridge interface cni0 Mac doesn't match: 02:00:00:00:00:01",
    );
    expect(cniError(() => t4.check(t4.r, mynet({ promiscMode: true }))).message).toBe(
      "Bridge interface cni0 configured Promisc Mode true doesn't match current state: false ",
    );
    expect(cniError(() => t4.check(null)).message).toBe('Required prevResult missing');
    const otherNs = { ...t4.r, interfaces: t4.r.interfaces!.map((i) => (i.sandbox ? { ...i, sandbox: '/x' } : i)) };
    expect(cniError(() => t4.check(otherNs)).message).toBe(
      "Sandbox in prevResult  doesn't match configured netns: /var/run/netns/pod1",
    );
  });

  it('reports an address IPAM no longer holds (host-local CHECK)', () => {
    const { env, check } = added();
    env.fs.remove('/var/lib/cni/networks/mynet/10.22.0.2');
    expect(cniError(() => check()).message).toBe(`host-local: Failed to find address added by container ${C1}`);
  });
});

function fmtMac(m: number): string {
  return m
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');
}

describe('bridge through the runtime', () => {
  for (const version of ['0.4.0', '1.0.0'] as const) {
    it(`ADD, CHECK and DEL of a ${version} list leave the node as it was`, () => {
      const k = node();
      const env = envOf(k);
      const p1 = k.netns('pod1');
      const { cniVersion: _v, name: _n, ...plugin } = mynet();
      const list = { cniVersion: version, name: 'mynet', plugins: [plugin as NetConf] };
      const before = snapshot(k, p1);
      const r = addNetworkList(list, { containerId: C1, netns: p1, ifName: 'eth0' }, env);
      expect(r.cniVersion).toBe(version);
      expect(r.ips).toEqual([{ interface: 2, address: '10.22.0.2/16', gateway: '10.22.0.1' }]);
      expect(r.interfaces![2]).toEqual({
        name: 'eth0',
        mac: r.interfaces![2]!.mac,
        sandbox: '/var/run/netns/pod1',
      });
      checkNetworkList(list, { containerId: C1, netns: p1, ifName: 'eth0' }, env);
      linkDelete(p1.dev('eth0'));
      expect(() => checkNetworkList(list, { containerId: C1, netns: p1, ifName: 'eth0' }, env)).toThrow(
        'Interface name eth0 not found',
      );
      delNetworkList(list, { containerId: C1, netns: p1, ifName: 'eth0' }, env);
      // The interface was gone before DEL, so (as in the reference) its masquerade rules remain; the rest is back.
      expect(iptablesSave(k.root)).toContain(chainName('mynet', C1));
      expect(showLinksBrief(p1)).toBe(before.split('# pod1\n')[1]!.split('\n')[0] + '\n');
    });
  }

  it('a failed ADD is rolled back by the runtime (the reference plugin itself leaves the veth)', () => {
    const k = node(['ip link add cni0 type bridge', 'ip addr add 10.9.0.1/24 dev cni0']);
    const env = envOf(k);
    const p1 = k.netns('pod1');
    const { cniVersion: _v, name: _n, ...plugin } = mynet();
    const list = { cniVersion: '1.0.0', name: 'mynet', plugins: [plugin as NetConf] };
    expect(() => addNetworkList(list, { containerId: C1, netns: p1, ifName: 'eth0' }, env)).toThrow(
      /already has an IP address different from 10\.22\.0\.1\/16/,
    );
    expect(p1.devs.has('eth0')).toBe(false);
    expect(k.root.devices().filter((d) => d.name.startsWith('veth'))).toEqual([]);
    expect(env.fs.exists('/var/lib/cni/networks/mynet/10.22.0.2')).toBe(false);
    // The bridge ADD created or set up stays, as with the real plugin.
    expect(k.root.dev('cni0').adminUp).toBe(true);
  });
});
