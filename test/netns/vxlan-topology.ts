// The two-node flannel VXLAN topology of tools/kernel-lab/VXLAN-NOTES.md, built with the library (no command
// parsing): `ul` holds the underlay bridge br0; nodes n1/n2 have eth0 192.168.50.1N/24 on it, cni0 10.244.N.1/24
// (MTU 1450) with the pod pN (10.244.N.2/24, MTU 1450, default via 10.244.N.1), and flannel.1 (VNI 1, local = eth0's
// address, dev eth0, nolearning, dstport 8472, MTU 1450, 10.244.N.0/32) programmed per remote node as flannel does:
// a permanent neighbour, an FDB entry `self permanent` and an onlink route. Same fixed MACs as the notes.

import { createBridge } from '../../src/bridge/bridge.js';
import { addAddr } from '../../src/netns/ifaddr.js';
import { Kernel } from '../../src/netns/kernel.js';
import { createVeth, linkSetMaster, linkSetMtu, linkSetUp } from '../../src/netns/link.js';
import type { NetNs } from '../../src/netns/netns.js';
import { type RouteSpec, routeModify } from '../../src/netns/route.js';
import { createVxlan, type VxlanDev, type VxlanSpec } from '../../src/netns/vxlan.js';
import { type Ipv4, type Mac, parseIpv4, parseMac } from '../../src/wire/addr.js';

export const ipv4 = (s: string): Ipv4 => parseIpv4(s)!;
export const macOf = (s: string): Mac => parseMac(s)!;

export const MACS = {
  eth0: (i: number) => macOf(`02:50:00:00:00:0${i}`),
  ulPort: (i: number) => macOf(`02:50:00:00:00:f${i}`),
  flannel: (i: number) => macOf(`0a:f1:00:00:00:0${i}`),
  cni0: (i: number) => macOf(`02:44:0${i}:00:00:01`),
  vethHost: (i: number) => macOf(`02:44:0${i}:00:00:fe`),
  pod: (i: number) => macOf(`02:44:0${i}:00:00:02`),
};

export interface Overlay {
  k: Kernel;
  ul: NetNs;
  n: [NetNs, NetNs];
  p: [NetNs, NetNs];
  flannel: [VxlanDev, VxlanDev];
}

export interface OverlayOptions {
  seed?: number;
  /** Changes to n2's flannel.1 (VNI, port) for the wrong-VNI / wrong-port cases. */
  n2Vxlan?: Partial<VxlanSpec>;
  /** MTU of p1's eth0 and its host end (default 1450). */
  p1Mtu?: number;
}

function route(ns: NetNs, r: Partial<RouteSpec> & Pick<RouteSpec, 'dst' | 'len'>): void {
  routeModify(ns, {
    op: 'replace',
    type: 'unicast',
    gw: null,
    dev: null,
    metric: null,
    prefsrc: null,
    table: 254,
    proto: null,
    scope: null,
    onlink: false,
    mtu: null,
    advmss: null,
    ...r,
  });
}

export function buildOverlay(o: OverlayOptions = {}): Overlay {
  const k = new Kernel({ seed: o.seed ?? 1 });
  k.tracer.tracing = true;
  const ul = k.addNetns('ul');
  const n = [k.addNetns('n1'), k.addNetns('n2')] as [NetNs, NetNs];
  const p = [k.addNetns('p1'), k.addNetns('p2')] as [NetNs, NetNs];
  for (const ns of [ul, ...n, ...p]) linkSetUp(ns.lo);
  const br0 = createBridge(ul, 'br0');
  linkSetUp(br0);
  const flannel: VxlanDev[] = [];
  for (const i of [1, 2]) {
    const node = n[i - 1]!;
    const pod = p[i - 1]!;
    const [u, eth0] = createVeth(ul, {
      name: `u${i}`,
      mac: MACS.ulPort(i),
      peerName: 'eth0',
      peerNs: node,
      peerMac: MACS.eth0(i),
    });
    linkSetMaster(u, br0);
    linkSetUp(u);
    addAddr(node, eth0, ipv4(`192.168.50.1${i}`), 24, { broadcast: 'auto' });
    linkSetUp(eth0);
    node.sysctl.set('net.ipv4.ip_forward', '1');
    const cni0 = createBridge(node, 'cni0', { mac: MACS.cni0(i), mtu: 1450 });
    addAddr(node, cni0, ipv4(`10.244.${i}.1`), 24, { broadcast: 'auto' });
    const mtu = i === 1 ? (o.p1Mtu ?? 1450) : 1450;
    const [vh, peth] = createVeth(node, {
      name: `vethp${i}`,
      mac: MACS.vethHost(i),
      mtu,
      peerName: 'eth0',
      peerNs: pod,
      peerMac: MACS.pod(i),
    });
    linkSetMaster(vh, cni0);
    linkSetUp(vh);
    linkSetUp(cni0);
    addAddr(pod, peth, ipv4(`10.244.${i}.2`), 24, { broadcast: 'auto' });
    linkSetUp(peth);
    route(pod, { dst: 0, len: 0, gw: ipv4(`10.244.${i}.1`) });
    const vx = createVxlan(node, {
      name: 'flannel.1',
      mac: MACS.flannel(i),
      vni: 1,
      local: ipv4(`192.168.50.1${i}`),
      dev: 'eth0',
      learning: false,
      dstport: 8472,
      ...(i === 2 ? o.n2Vxlan : {}),
    });
    linkSetMtu(vx, 1450);
    addAddr(node, vx, ipv4(`10.244.${i}.0`), 32);
    linkSetUp(vx);
    flannel.push(vx);
  }
  for (const i of [1, 2]) {
    const node = n[i - 1]!;
    const o2 = 3 - i;
    const vx = flannel[i - 1]!;
    node.neigh.addStatic(vx, ipv4(`10.244.${o2}.0`), MACS.flannel(o2), 'PERMANENT', true);
    vx.fdbReplace(MACS.flannel(o2), ipv4(`192.168.50.1${o2}`));
    route(node, { dst: ipv4(`10.244.${o2}.0`), len: 24, gw: ipv4(`10.244.${o2}.0`), dev: vx, onlink: true });
  }
  k.run(k.now);
  return { k, ul, n, p, flannel: flannel as [VxlanDev, VxlanDev] };
}
