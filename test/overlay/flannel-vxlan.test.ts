import { describe, expect, it } from 'vitest';
import { runUntilDone } from '../../src/index.js';
import type { NetNs } from '../../src/netns/netns.js';
import { ping } from '../../src/netns/ping.js';
import { showNeigh, showRoutes } from '../../src/netns/show.js';
import { createVxlan, VxlanDev } from '../../src/netns/vxlan.js';
import { KUBE_FLANNEL_NET_CONF } from '../../src/overlay/flannel/config.js';
import { formatCidr, formatIpv4, formatMac } from '../../src/wire/addr.js';
import { fdbOf, ip, testCluster } from './cluster.js';

function macOf(ns: NetNs): string {
  return formatMac(ns.dev('flannel.1').mac);
}

function podIp(result: { ips?: { address: string }[] }): string {
  return result.ips![0]!.address.split('/')[0]!;
}

describe('flannel vxlan on three nodes', () => {
  it('makes flannel.1 as flannel does and announces its MAC', () => {
    const c = testCluster(KUBE_FLANNEL_NET_CONF);
    const n1 = c.join('n1', 1);
    const ns = c.k.netns('n1');
    const dev = ns.dev('flannel.1');
    expect(dev).toBeInstanceOf(VxlanDev);
    const v = dev as VxlanDev;
    expect([v.vni, formatIpv4(v.local!), v.lower?.name, v.dstport, v.learning, v.mtu, v.adminUp]).toEqual([
      1,
      '192.168.50.11',
      'eth0',
      8472,
      false,
      1450,
      true,
    ]);
    expect(ns.addrsOf(dev).map((a) => formatCidr(a))).toEqual(['10.244.0.0/32']);
    expect(c.net.flanneld('n1')!.commands().slice(0, 3)).toEqual([
      `ip link add flannel.1 address ${macOf(ns)} mtu 1450 type vxlan id 1 local 192.168.50.11 dev eth0 nolearning dstport 8472`,
      'ip addr add 10.244.0.0/32 dev flannel.1',
      'ip link set flannel.1 up',
    ]);
    expect(c.net.annotations('n1')['flannel.alpha.coreos.com/backend-data']).toBe(`{"VNI":1,"VtepMAC":"${macOf(ns)}"}`);
    expect(n1.fs.read('/run/flannel/subnet.env')).toBe(
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
    );
  });

  it('programs neighbour, FDB entry and route for every other node, and removes exactly those', () => {
    const c = testCluster(KUBE_FLANNEL_NET_CONF);
    for (const [n, i] of [
      ['n1', 1],
      ['n2', 2],
      ['n3', 3],
    ] as const)
      c.join(n, i);
    const ns = (n: string) => c.k.netns(n);
    const [m1, m2, m3] = ['n1', 'n2', 'n3'].map((n) => macOf(ns(n)));
    expect(
      showNeigh(ns('n1'))
        .split('\n')
        .filter((l) => l.includes('flannel.1')),
    ).toEqual([`10.244.1.0 dev flannel.1 lladdr ${m2} PERMANENT `, `10.244.2.0 dev flannel.1 lladdr ${m3} PERMANENT `]);
    // Newest first, as the kernel lists a VXLAN FDB.
    expect(fdbOf(ns('n1'))).toBe(`${m3} dst 192.168.50.13 self permanent\n${m2} dst 192.168.50.12 self permanent\n`);
    expect(showRoutes(ns('n1'))).toBe(
      [
        '10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink ',
        '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink ',
        '192.168.50.0/24 dev eth0 proto kernel scope link src 192.168.50.11 ',
        '',
      ].join('\n'),
    );
    // n3 learned both others from the initial list, in join order, each as ARP → FDB → route.
    expect(c.net.flanneld('n3')!.commands().slice(-6)).toEqual([
      `ip neigh replace 10.244.0.0 lladdr ${m1} dev flannel.1 nud permanent`,
      `bridge fdb replace ${m1} dev flannel.1 dst 192.168.50.11 self permanent`,
      'ip route replace 10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink',
      `ip neigh replace 10.244.1.0 lladdr ${m2} dev flannel.1 nud permanent`,
      `bridge fdb replace ${m2} dev flannel.1 dst 192.168.50.12 self permanent`,
      'ip route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink',
    ]);

    c.net.leave('n2');
    for (const n of ['n1', 'n3']) {
      expect(c.net.flanneld(n)!.commands().slice(-3)).toEqual([
        'ip neigh del 10.244.1.0 dev flannel.1',
        `bridge fdb del ${m2} dev flannel.1 dst 192.168.50.12 self`,
        'ip route del 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink',
      ]);
      expect(c.net.flanneld(n)!.log.ops.every((o) => o.error === undefined)).toBe(true);
    }
    expect(showRoutes(ns('n1'))).not.toContain('10.244.1.0/24');
    expect(showNeigh(ns('n1'))).not.toContain('10.244.1.0');
    expect(fdbOf(ns('n1'))).toBe(`${m3} dst 192.168.50.13 self permanent\n`);
    expect(fdbOf(ns('n3'))).toBe(`${m1} dst 192.168.50.11 self permanent\n`);
    expect(c.net.leases().map((l) => l.node)).toEqual(['n1', 'n3']);
  });

  it('pods on different nodes ping each other through the tunnel', () => {
    const c = testCluster(KUBE_FLANNEL_NET_CONF);
    const n1 = c.join('n1', 1);
    const n2 = c.join('n2', 2);
    const a = n1.node.addPod('a');
    const b = n2.node.addPod('b');
    expect(a.netns.dev('eth0').mtu).toBe(1450);
    const p = runUntilDone(c.k, ping(a.netns, ip(podIp(b.result)), { count: 2 }));
    expect(p.outcome.result).toBe('reachable');
    expect(p.outcome.replyTtl).toBe(62);
    // The node's own traffic to a remote pod leaves from its flannel.1 address.
    const q = runUntilDone(c.k, ping(c.k.netns('n1'), ip(podIp(b.result))));
    expect(q.outcome.result).toBe('reachable');
    expect(q.outcome.replyTtl).toBe(63);
  });

  it('DirectRouting routes to nodes on the same segment without the tunnel', () => {
    const c = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","DirectRouting":true}}');
    c.join('n1', 1);
    c.join('n2', 2);
    expect(showRoutes(c.k.netns('n1'))).toContain('10.244.1.0/24 via 192.168.50.12 dev eth0');
    expect(c.net.flanneld('n1')!.commands().at(-1)).toBe('ip route replace 10.244.1.0/24 via 192.168.50.12');
    expect(fdbOf(c.k.netns('n1'))).toBe('');
    c.net.leave('n2');
    expect(c.net.flanneld('n1')!.commands().at(-1)).toBe('ip route del 10.244.1.0/24 via 192.168.50.12');
    expect(showRoutes(c.k.netns('n1'))).not.toContain('10.244.1.0/24');
  });

  it('VNI, port and MTU from the Backend; the kernel caps the device MTU, flannel writes its own', () => {
    const c = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":42,"Port":4789,"MTU":1400}}');
    const n1 = c.join('n1', 1);
    const v = c.k.netns('n1').dev('flannel.42') as VxlanDev;
    expect([v.vni, v.dstport, v.mtu]).toEqual([42, 4789, 1350]);
    expect(n1.fs.read('/run/flannel/subnet.env')).toContain('FLANNEL_MTU=1350\n');
    const big = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","MTU":9000}}');
    const b1 = big.join('n1', 1);
    expect(big.k.netns('n1').dev('flannel.1').mtu).toBe(1450);
    expect(b1.fs.read('/run/flannel/subnet.env')).toContain('FLANNEL_MTU=8950\n');
  });

  it('keeps a compatible flannel.1 from an earlier run and replaces an incompatible one', () => {
    const c = testCluster(KUBE_FLANNEL_NET_CONF);
    const t1 = c.addNode('n1', 1);
    const t2 = c.addNode('n2', 2);
    const ns1 = c.k.netns('n1');
    const ns2 = c.k.netns('n2');
    const kept = createVxlan(ns1, {
      name: 'flannel.1',
      vni: 1,
      local: ip('192.168.50.11'),
      dev: 'eth0',
      learning: false,
    });
    createVxlan(ns2, { name: 'flannel.1', vni: 7, local: ip('192.168.50.12'), dev: 'eth0' });
    c.net.join({ name: 'n1', host: ns1, iface: 'eth0', fs: t1.fs });
    c.net.join({ name: 'n2', host: ns2, iface: 'eth0', fs: t2.fs });
    expect(ns1.dev('flannel.1')).toBe(kept);
    expect(c.net.flanneld('n1')!.commands()[0]).toBe('ip addr add 10.244.0.0/32 dev flannel.1');
    expect(c.net.annotations('n1')['flannel.alpha.coreos.com/backend-data']).toContain(formatMac(kept.mac));
    const cmds2 = c.net.flanneld('n2')!.commands();
    expect(cmds2[0]).toBe('ip link del flannel.1');
    expect(cmds2[1]).toMatch(/^ip link add flannel\.1 address \S+ mtu 1450 type vxlan id 1 /);
    expect((ns2.dev('flannel.1') as VxlanDev).vni).toBe(1);
  });

  it('a lease whose FDB entry cannot be made leaves no ARP entry behind; state() shows the node', () => {
    const c = testCluster(KUBE_FLANNEL_NET_CONF);
    c.join('n1', 1);
    const d = c.net.flanneld('n1')!;
    // Another node announces a multicast VTEP MAC: the FDB refuses to replace-create it.
    c.net.sm.registerNode('x');
    c.net.sm.acquireLease('x', {
      publicIp: ip('192.168.50.99'),
      backendType: 'vxlan',
      backendData: '{"VNI":1,"VtepMAC":"01:00:5e:00:00:01"}',
    });
    const last = d.log.ops.slice(-3);
    expect(last.map((o) => o.cmd)).toEqual([
      'ip neigh replace 10.244.1.0 lladdr 01:00:5e:00:00:01 dev flannel.1 nud permanent',
      'bridge fdb replace 01:00:5e:00:00:01 dev flannel.1 dst 192.168.50.99 self permanent',
      'ip neigh del 10.244.1.0 dev flannel.1',
    ]);
    expect(last[1]!.error).toMatch(/not supported/i);
    expect(showNeigh(c.k.netns('n1'))).not.toContain('10.244.1.0');
    expect(showRoutes(c.k.netns('n1'))).not.toContain('10.244.1.0');
    // Undecodable backend data is skipped.
    c.net.sm.registerNode('y');
    const before = d.log.ops.length;
    c.net.sm.acquireLease('y', { publicIp: ip('192.168.50.98'), backendType: 'vxlan', backendData: 'null' });
    expect(d.log.ops.length).toBe(before);
    const st = d.state();
    expect(st.started).toBe(true);
    expect(st.iface).toBe('eth0');
    expect(st.publicIp).toBe('192.168.50.11');
    expect(st.mtu).toBe(1450);
    expect(st.device).toEqual({ name: 'flannel.1', mac: macOf(c.k.netns('n1')), mtu: 1450 });
    expect(st.subnetEnv).toContain('FLANNEL_SUBNET=10.244.0.1/24');
    expect(formatCidr(st.lease!.subnet)).toBe('10.244.0.0/24');
  });
});
