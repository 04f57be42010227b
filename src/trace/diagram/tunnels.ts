// The VXLAN tunnels of a topology snapshot, as the topology diagram draws them. Each VXLAN device's remotes (the
// destination IPs of its FDB entries) are resolved to the namespace that owns that address on one of its devices,
// and there to the VXLAN device with the same VNI: where the kernel would deliver the encapsulated frame, assuming
// the underlay routes it. Each pair is one tunnel whichever side lists the other; a tunnel only one side lists is
// marked one-way. A remote that leads to no namespace, or to one without that VNI, is a stub.
// Limits: whether the underlay really connects the two ends is not checked; when several namespaces own the address,
// the first (in snapshot order) with a matching VXLAN device wins; a dstport mismatch is reported, not judged.

import type { TopoDevice, TopologySnapshot, TopoVxlan } from '../topology.js';

export interface TunnelEnd {
  ns: string;
  dev: string;
}

export interface Tunnel {
  a: TunnelEnd;
  b: TunnelEnd;
  vni: number;
  /** Destination UDP ports of the two ends, distinct, `a`'s first. */
  dstports: number[];
  /** Only `a` has `b` among its remotes. */
  oneWay: boolean;
}

export interface TunnelStub {
  from: TunnelEnd;
  vni: number;
  remote: string;
  /** The namespace owning the address when it has no VXLAN device with this VNI. */
  owner?: string;
}

interface Vtep {
  ns: string;
  dev: TopoDevice;
  vx: TopoVxlan;
}

const hostOf = (cidr: string) => cidr.split('/')[0]!;
const endKey = (e: TunnelEnd) => `${e.ns}\u0000${e.dev}`;

export function resolveTunnels(
  topo: TopologySnapshot,
  visible: (d: TopoDevice) => boolean = () => true,
): { tunnels: Tunnel[]; stubs: TunnelStub[] } {
  const owners = new Map<string, string[]>();
  const vteps: Vtep[] = [];
  for (const n of topo.namespaces)
    for (const d of n.devices) {
      for (const a of d.addrs) {
        const list = owners.get(hostOf(a)) ?? [];
        if (!list.includes(n.name)) list.push(n.name);
        owners.set(hostOf(a), list);
      }
      if (d.vxlan && visible(d)) vteps.push({ ns: n.name, dev: d, vx: d.vxlan });
    }

  const tunnels: Tunnel[] = [];
  const stubs: TunnelStub[] = [];
  const byPair = new Map<string, Tunnel>();
  for (const v of vteps) {
    const from = { ns: v.ns, dev: v.dev.name };
    for (const remote of new Set(v.vx.remotes)) {
      const cands = (owners.get(remote) ?? []).filter((o) => o !== v.ns);
      let peer: Vtep | undefined;
      for (const o of cands) {
        const same = vteps.filter((w) => w.ns === o && w.vx.vni === v.vx.vni);
        peer = same.find((w) => w.vx.local === remote) ?? same[0];
        if (peer) break;
      }
      if (!peer) {
        stubs.push({ from, vni: v.vx.vni, remote, ...(cands[0] !== undefined ? { owner: cands[0] } : {}) });
        continue;
      }
      const to = { ns: peer.ns, dev: peer.dev.name };
      const ka = endKey(from);
      const kb = endKey(to);
      const pair = ka < kb ? `${ka}\u0001${kb}` : `${kb}\u0001${ka}`;
      const seen = byPair.get(pair);
      if (seen) {
        if (endKey(seen.a) !== ka) seen.oneWay = false;
        continue;
      }
      const t: Tunnel = {
        a: from,
        b: to,
        vni: v.vx.vni,
        dstports: [...new Set([v.vx.dstport, peer.vx.dstport])],
        oneWay: true,
      };
      byPair.set(pair, t);
      tunnels.push(t);
    }
  }
  return { tunnels, stubs };
}

export function tunnelLabel(t: Tunnel): string {
  const port = t.dstports.length === 1 ? `UDP ${t.dstports[0]}` : `UDP ${t.dstports.join('/')} (mismatch)`;
  return `VNI ${t.vni} · ${port}${t.oneWay ? ` · only ${t.a.ns} → ${t.b.ns}` : ''}`;
}

export function stubLabel(s: TunnelStub): string {
  return `VNI ${s.vni} → ${s.remote} (${s.owner !== undefined ? `${s.owner} has no VNI ${s.vni}` : 'no namespace'})`;
}
