import { describe, expect, it } from 'vitest';
import { Kernel } from '../../src/netns/kernel.js';
import { createDummy } from '../../src/netns/link.js';
import { renderTopologySvg } from '../../src/trace/diagram/topology.js';
import { resolveTunnels } from '../../src/trace/diagram/tunnels.js';
import { svgToPng } from '../../src/trace/png.js';
import type { TopologySnapshot } from '../../src/trace/topology.js';
import { overlayClusterTopology } from './sample-overlay.js';
import { routerTopology } from './sample-topology.js';
import { allText, byClass, findAll, parseXml, type XmlNode } from './xml.js';

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
type Pt = [number, number];

const rectOf = (g: XmlNode): Rect => {
  const r = findAll(g, (n) => n.name === 'rect')[0]!.attrs;
  return { x: Number(r.x), y: Number(r.y), w: Number(r.width), h: Number(r.height) };
};

/** The corners of an orthogonal path written as M/L/Q commands (a Q's control point is the corner it rounds). */
function corners(d: string): Pt[] {
  const pts: Pt[] = [];
  for (const m of d.matchAll(/([MLQ])([^MLQ]+)/g)) {
    const nums = m[2]!.trim().split(/[ ,]+/).map(Number);
    for (let i = 0; i < nums.length; i += 2) pts.push([nums[i]!, nums[i + 1]!]);
  }
  return pts.filter((p, i) => i === 0 || p[0] !== pts[i - 1]![0] || p[1] !== pts[i - 1]![1]);
}

/** Segment p→q passes through the interior of r. */
function cuts(p: Pt, q: Pt, r: Rect): boolean {
  const [x1, x2] = [Math.min(p[0], q[0]), Math.max(p[0], q[0])];
  const [y1, y2] = [Math.min(p[1], q[1]), Math.max(p[1], q[1])];
  return x1 < r.x + r.w && x2 > r.x && y1 < r.y + r.h && y2 > r.y;
}

/** Two axis-aligned segments cross (touching at an end or running apart do not count). */
function cross(a: [Pt, Pt], b: [Pt, Pt]): boolean {
  const h = (s: [Pt, Pt]) => s[0][1] === s[1][1];
  if (h(a) === h(b)) {
    if (h(a) && a[0][1] === b[0][1]) {
      const lo = Math.max(Math.min(a[0][0], a[1][0]), Math.min(b[0][0], b[1][0]));
      const hi = Math.min(Math.max(a[0][0], a[1][0]), Math.max(b[0][0], b[1][0]));
      return hi > lo;
    }
    return false;
  }
  const [hs, vs] = h(a) ? [a, b] : [b, a];
  const y = hs[0][1];
  const x = vs[0][0];
  const between = (v: number, e1: number, e2: number) => v > Math.min(e1, e2) && v < Math.max(e1, e2);
  return between(x, hs[0][0], hs[1][0]) && between(y, vs[0][1], vs[1][1]);
}

function parts(svg: string) {
  const root = parseXml(svg);
  const boxes = new Map(byClass(root, 'netns').map((g) => [g.attrs['data-name']!, rectOf(g)]));
  const chips = byClass(root, 'dev').map((g) => rectOf(g));
  const tunnels = byClass(root, 'tunnel');
  const labels = byClass(root, 'tunnel-label').map(allText);
  return { root, boxes, chips, tunnels, labels };
}

describe('VXLAN tunnels in the topology diagram', () => {
  const svg = renderTopologySvg(overlayClusterTopology(), { title: 'three nodes, flannel VXLAN overlay' });
  const { root, boxes, chips, tunnels, labels } = parts(svg);

  it('draws each tunnel once, between the flannel.1 devices, labelled with VNI and port', () => {
    expect(tunnels.map((t) => t.attrs['data-ends']).sort()).toEqual([
      'node1/flannel.1 node2/flannel.1',
      'node1/flannel.1 node3/flannel.1',
      'node2/flannel.1 node3/flannel.1',
    ]);
    expect(tunnels.every((t) => t.attrs['data-vni'] === '1')).toBe(true);
    expect(labels).toEqual(['VNI 1 · UDP 8472', 'VNI 1 · UDP 8472', 'VNI 1 · UDP 8472']);
    expect(byClass(root, 'tunnel-stub')).toEqual([]);
    // unlike veth links: dashed and in another colour
    const veth = byClass(root, 'veth')[0]!;
    for (const t of tunnels) {
      expect(t.attrs['stroke-dasharray']).toBeDefined();
      expect(t.attrs.stroke).not.toBe(veth.attrs.stroke);
    }
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    // the chip says which VNI and local address the device has
    const flannel = byClass(root, 'dev').filter((g) => g.attrs['data-name'] === 'flannel.1');
    expect(flannel.map(allText).map((t) => t.includes('id 1 local 192.168.56.1'))).toEqual([true, true, true]);
  });

  it('stacks pods over their nodes over the underlay, with the client and router beside the nodes', () => {
    const y = (n: string) => boxes.get(n)!.y;
    const x = (n: string) => boxes.get(n)!.x;
    expect(y('node1')).toBeLessThan(y('root'));
    expect(['node2', 'node3', 'gw', 'laptop'].map(y)).toEqual([y('node1'), y('node1'), y('node1'), y('node1')]);
    expect(['web-1', 'web-2', 'db-1', 'cache-1'].every((p) => y(p) < y('node1'))).toBe(true);
    expect(x('node1') < x('node2') && x('node2') < x('node3') && x('node3') < x('gw') && x('gw') < x('laptop')).toBe(
      true,
    );
    // each pod stands over its own node
    const over = (pod: string, node: string) => {
      const p = boxes.get(pod)!;
      const n = boxes.get(node)!;
      return p.x + p.w / 2 > n.x && p.x + p.w / 2 < n.x + n.w;
    };
    expect(over('web-1', 'node1') && over('web-2', 'node1') && over('db-1', 'node2') && over('cache-1', 'node3')).toBe(
      true,
    );
  });

  it('routes tunnels orthogonally through the lane between the nodes and the underlay, crossing no box', () => {
    const nodeBottom = Math.max(...['node1', 'node2', 'node3'].map((n) => boxes.get(n)!.y + boxes.get(n)!.h));
    const rootTop = boxes.get('root')!.y;
    const segs: [Pt, Pt][][] = [];
    for (const t of tunnels) {
      const pts = corners(t.attrs.d!);
      const own = t.attrs['data-ends']!.split(' ').map((e) => boxes.get(e.split('/')[0]!)!);
      const s: [Pt, Pt][] = [];
      for (let i = 0; i + 1 < pts.length; i++) {
        const [p, q] = [pts[i]!, pts[i + 1]!];
        expect(p[0] === q[0] || p[1] === q[1]).toBe(true);
        if (p[1] === q[1]) {
          expect(p[1]).toBeGreaterThan(nodeBottom);
          expect(p[1]).toBeLessThan(rootTop);
        }
        for (const [name, b] of boxes) if (!own.includes(b)) expect(cuts(p, q, b), `${name}`).toBe(false);
        for (const c of chips) expect(cuts(p, q, c)).toBe(false);
        s.push([p, q]);
      }
      segs.push(s);
    }
    // nested like arcs: no tunnel crosses another
    for (let i = 0; i < segs.length; i++)
      for (let j = i + 1; j < segs.length; j++)
        for (const a of segs[i]!) for (const b of segs[j]!) expect(cross(a, b)).toBe(false);
  });

  it('is byte-identical for the same input, has a legend, and rasterises', () => {
    expect(renderTopologySvg(overlayClusterTopology(), { title: 'three nodes, flannel VXLAN overlay' })).toBe(svg);
    const legend = byClass(root, 'legend');
    expect(legend.length).toBe(1);
    expect(allText(legend[0]!)).toBe('vethbridge portVXLAN tunnel');
    const png = svgToPng(svg);
    const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
    expect([v.getUint32(16), v.getUint32(20)]).toEqual([Number(root.attrs.width), Number(root.attrs.height)]);
  });

  it('draws a remote that leads nowhere as a stub and marks a tunnel only one side programs', () => {
    const {
      root: r,
      tunnels: ts,
      labels: ls,
    } = parts(renderTopologySvg(overlayClusterTopology({ departed: true, oneWay: true })));
    expect(ts.length).toBe(3);
    const stubs = byClass(r, 'tunnel-stub');
    expect(stubs.map((s) => [s.attrs['data-from'], s.attrs['data-remote']])).toEqual([
      ['node3/flannel.1', '192.168.56.14'],
    ]);
    expect(ls).toContain('VNI 1 → 192.168.56.14 (no namespace)');
    expect(ls).toContain('VNI 1 · UDP 8472 · only node1 → node2');
    expect(ls.filter((l) => l === 'VNI 1 · UDP 8472').length).toBe(2);
    // labels, the stub's included, stay on the canvas
    for (const g of byClass(r, 'tunnel-label')) {
      const box = rectOf(g);
      expect(box.x).toBeGreaterThan(0);
      expect(box.x + box.w).toBeLessThanOrEqual(Number(r.attrs.width));
    }
  });

  it('matches remotes by owner address and VNI, and reports mismatches', () => {
    const topo = overlayClusterTopology();
    const ns = (n: string) => topo.namespaces.find((x) => x.name === n)!;
    const vx = (n: string) => ns(n).devices.find((d) => d.name === 'flannel.1')!.vxlan!;
    vx('node3').vni = 2;
    vx('node2').dstport = 4789;
    vx('node1').remotes.push('192.168.57.10');
    const { tunnels, stubs } = resolveTunnels(topo);
    expect(tunnels.map((t) => `${t.a.ns}-${t.b.ns} ${t.dstports.join('/')} ${t.oneWay}`)).toEqual([
      'node1-node2 8472/4789 false',
    ]);
    expect(stubs.map((s) => `${s.from.ns} ${s.remote} ${s.owner}`)).toEqual([
      'node1 192.168.56.13 node3',
      'node1 192.168.57.10 laptop',
      'node2 192.168.56.13 node3',
      'node3 192.168.56.11 node1',
      'node3 192.168.56.12 node2',
    ]);
    const text = allText(parseXml(renderTopologySvg(topo)));
    expect(text).toContain('VNI 1 · UDP 8472/4789 (mismatch)');
    expect(text).toContain('VNI 1 → 192.168.57.10 (laptop has no VNI 1)');
    expect(text).toContain('VNI 2 → 192.168.56.11 (node1 has no VNI 2)');
  });

  it('routes a tunnel between levels and from a bridged VXLAN device around the boxes', () => {
    const vx = (vni: number, local: string, remotes: string[]) => ({ vni, local, dstport: 4789, remotes });
    const base = routerTopology();
    const topo: TopologySnapshot = {
      namespaces: base.namespaces.map((n) => ({ ...n, devices: [...n.devices] })),
    };
    const [a, r, b] = topo.namespaces;
    // r sits under a and b; a's VXLAN device is a bridge port, so it leaves upwards and has to come down beside a box
    a!.devices.push(
      { ...base.namespaces[0]!.devices[1]!, name: 'br-ovl', kind: 'bridge', ifindex: 5, addrs: [] },
      {
        ...base.namespaces[0]!.devices[1]!,
        name: 'vx0',
        kind: 'vxlan',
        ifindex: 6,
        addrs: [],
        peer: undefined,
        master: 'br-ovl',
        vxlan: vx(7, '10.0.1.2', ['10.0.1.1', '10.0.2.2']),
      },
    );
    r!.devices.push({
      ...r!.devices[1]!,
      name: 'vx0',
      kind: 'vxlan',
      ifindex: 6,
      addrs: [],
      peer: undefined,
      vxlan: vx(7, '10.0.1.1', ['10.0.1.2']),
    });
    b!.devices.push({
      ...b!.devices[1]!,
      name: 'vx0',
      kind: 'vxlan',
      ifindex: 6,
      addrs: [],
      peer: undefined,
      vxlan: vx(7, '10.0.2.2', ['10.0.1.2']),
    });
    const svg2 = renderTopologySvg(topo);
    const p = parts(svg2);
    expect(p.tunnels.map((t) => t.attrs['data-ends'])).toEqual(['a/vx0 r/vx0', 'a/vx0 b/vx0']);
    expect(p.boxes.get('r')!.y).toBeGreaterThan(p.boxes.get('a')!.y);
    for (const t of p.tunnels) {
      const pts = corners(t.attrs.d!);
      const own = t.attrs['data-ends']!.split(' ').map((e) => e.split('/')[0]!);
      for (let i = 0; i + 1 < pts.length; i++) {
        const [s, q] = [pts[i]!, pts[i + 1]!];
        expect(s[0] === q[0] || s[1] === q[1]).toBe(true);
        for (const [name, box] of p.boxes) if (!own.includes(name)) expect(cuts(s, q, box), name).toBe(false);
      }
      // leaving a bridged device upwards: the path starts at the top edge of a's vx0 and first goes up
      expect(pts[1]![1]).toBeLessThan(pts[0]![1]);
      expect(pts[0]![1]).toBe(p.boxes.get('a')!.y + 10);
    }
    expect(svg2).not.toMatch(/NaN|Infinity/);
  });
});

describe('Kernel.topology()', () => {
  it("merges a device's own topology fields, keeping its name and ifindex", () => {
    const k = new Kernel();
    const d = createDummy(k.root, 'vx0');
    d.topoInfo = () => ({ name: 'other', ifindex: 99, vxlan: { vni: 5, dstport: 4789, remotes: ['10.0.0.2'] } });
    const entry = k
      .topology()
      .namespaces.find((n) => n.name === 'root')!
      .devices.find((x) => x.ifindex === d.ifindex)!;
    expect(entry.name).toBe('vx0');
    expect(entry.kind).toBe('dummy');
    expect(entry.vxlan).toEqual({ vni: 5, dstport: 4789, remotes: ['10.0.0.2'] });
    const lo = k.topology().namespaces[0]!.devices.find((x) => x.name === 'lo')!;
    expect(lo.vxlan).toBeUndefined();
  });
});
