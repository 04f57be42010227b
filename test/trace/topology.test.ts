import { describe, expect, it } from 'vitest';
import { renderTopologySvg } from '../../src/trace/diagram/topology.js';
import type { TopologySnapshot } from '../../src/trace/topology.js';
import { clusterTopology, dev, lo, routerTopology } from './sample-topology.js';
import { allText, byClass, findAll, parseXml, type XmlNode } from './xml.js';

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
const rectOf = (g: XmlNode): Rect => {
  const r = findAll(g, (n) => n.name === 'rect')[0]!.attrs;
  return { x: Number(r.x), y: Number(r.y), w: Number(r.width), h: Number(r.height) };
};
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a: Rect, b: Rect) => a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;

/** Namespace boxes with the device chips and bridge bars drawn inside them. */
function layout(root: XmlNode) {
  const boxes = new Map(byClass(root, 'netns').map((g) => [g.attrs['data-name']!, rectOf(g)]));
  const chips = byClass(root, 'dev').map((g) => ({ name: g.attrs['data-name']!, r: rectOf(g), g }));
  const bars = byClass(root, 'bridge').map((g) => ({ name: g.attrs['data-name']!, r: rectOf(g), g }));
  return { boxes, chips, bars };
}

function expectTidy(root: XmlNode) {
  const { boxes, chips, bars } = layout(root);
  const bs = [...boxes.values()];
  for (let i = 0; i < bs.length; i++)
    for (let j = i + 1; j < bs.length; j++) expect(overlap(bs[i]!, bs[j]!)).toBe(false);
  const items = [...chips, ...bars];
  for (const it of items) expect(bs.some((b) => inside(it.r, b))).toBe(true);
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) expect(overlap(items[i]!.r, items[j]!.r)).toBe(false);
  const w = Number(root.attrs.width);
  const h = Number(root.attrs.height);
  for (const b of bs) expect(inside(b, { x: 0, y: 0, w, h })).toBe(true);
}

describe('renderTopologySvg', () => {
  it('draws namespaces with their devices and veth links', () => {
    const root = parseXml(renderTopologySvg(routerTopology(), { title: 'router' }));
    const { boxes, chips } = layout(root);
    expect([...boxes.keys()]).toEqual(['a', 'r', 'b']);
    expect(chips.map((c) => c.name)).toEqual(['eth0', 'eth0', 'eth1', 'eth0']);
    expect(allText(chips[2]!.g)).toContain('10.0.2.1/24');
    expect(allText(chips[2]!.g)).toContain('veth');
    expect(byClass(root, 'veth').map((p) => p.attrs['data-ends'])).toEqual(['a/eth0 r/eth0', 'r/eth1 b/eth0']);
    // the router (two links) sits under the namespaces it joins
    expect(boxes.get('r')!.y).toBeGreaterThan(boxes.get('a')!.y);
    expect(boxes.get('a')!.y).toBe(boxes.get('b')!.y);
    expect(allText(byClass(root, 'netns')[1]!)).toContain('ip_forward=1');
    expect(svgHasNoMacs(root)).toBe(true);
    expectTidy(root);
  });

  it('draws bridges as bars under their ports and greys down devices', () => {
    const root = parseXml(renderTopologySvg(clusterTopology()));
    const { boxes, chips, bars } = layout(root);
    expect(bars.map((b) => b.name)).toEqual(['br0', 'cni0', 'cni0']);
    expect(allText(bars[1]!.g)).toBe('cni0  10.244.1.1/24');
    const node1 = boxes.get('node1')!;
    const ports = chips.filter((c) => inside(c.r, node1) && c.name.startsWith('veth'));
    expect(ports.map((p) => p.name)).toEqual(['veth10', 'veth11']);
    const bar = bars.find((b) => inside(b.r, node1))!.r;
    for (const p of ports) {
      expect(bar.y).toBeGreaterThan(p.r.y + p.r.h);
      expect(p.r.x + p.r.w / 2).toBeGreaterThanOrEqual(bar.x);
      expect(p.r.x + p.r.w / 2).toBeLessThanOrEqual(bar.x + bar.w);
    }
    // the ports' "master" is shown by the bar, not repeated as text
    expect(allText(ports[0]!.g)).not.toContain('master');
    const down = byClass(root, 'down');
    expect(down.length).toBe(1);
    expect(inside(rectOf(down[0]!), boxes.get('pod-c')!)).toBe(true);
    expect(allText(down[0]!)).toContain('DOWN');
    const downLink = byClass(root, 'veth').find((p) => p.attrs['data-ends'] === 'node2/veth20 pod-c/eth0')!;
    expect(downLink.attrs['stroke-dasharray']).toBeDefined();
    // levels: underlay at the bottom, nodes above it, pods on top
    const y = (n: string) => boxes.get(n)!.y;
    expect(y('underlay')).toBeGreaterThan(y('node1'));
    expect(y('node1')).toBe(y('node2'));
    expect(y('node1')).toBeGreaterThan(y('pod-a'));
    expect(['pod-b', 'pod-c', 'pod-d'].map(y)).toEqual([y('pod-a'), y('pod-a'), y('pod-a')]);
    // pods keep the order of the ports that lead to them, so links do not cross
    const x = (n: string) => boxes.get(n)!.x;
    expect(x('pod-a') < x('pod-b') && x('pod-b') < x('pod-c') && x('pod-c') < x('pod-d')).toBe(true);
    expect(byClass(root, 'veth').length).toBe(6);
    expectTidy(root);
  });

  it('shows loopback and MAC addresses on request', () => {
    const plain = parseXml(renderTopologySvg(routerTopology()));
    expect(layout(plain).chips.some((c) => c.name === 'lo')).toBe(false);
    const full = parseXml(renderTopologySvg(routerTopology(), { showLoopback: true, showMac: true }));
    const { chips } = layout(full);
    expect(chips.filter((c) => c.name === 'lo').length).toBe(3);
    expect(allText(chips.find((c) => c.name === 'eth1')!.g)).toContain('02:00:00:00:03:01');
    expectTidy(full);
  });

  it('keeps unconnected namespaces apart and names peers that are not drawn', () => {
    const topo: TopologySnapshot = {
      namespaces: [
        { name: 'lonely', ipForward: false, devices: [lo()] },
        {
          name: 'half',
          ipForward: false,
          devices: [dev('veth0', 2, 'veth', [], { peer: { ns: 'gone', dev: 'eth0' } })],
        },
        { name: 'br', ipForward: false, devices: [dev('br9', 2, 'bridge', [], { up: false, operState: 'DOWN' })] },
      ],
    };
    const root = parseXml(renderTopologySvg(topo));
    const { boxes, bars } = layout(root);
    expect([...boxes.keys()]).toEqual(['lonely', 'half', 'br']);
    expect(allText(root)).toContain('peer gone/eth0 (not shown)');
    expect(allText(bars[0]!.g)).toBe('br9  DOWN');
    expect(byClass(root, 'veth')).toEqual([]);
    expectTidy(root);
    expect(() => parseXml(renderTopologySvg({ namespaces: [] }))).not.toThrow();
  });

  it('escapes names and is byte-identical between runs', () => {
    const topo = routerTopology();
    topo.namespaces[0]!.name = 'a<&>"';
    topo.namespaces[1]!.devices[1]!.peer = { ns: 'a<&>"', dev: 'eth0' };
    const svg = renderTopologySvg(topo, { title: '"quoted" & <b>' });
    const root = parseXml(svg);
    expect([...layout(root).boxes.keys()][0]).toBe('a<&>"');
    expect(byClass(root, 'veth')[0]!.attrs['data-ends']).toBe('a<&>"/eth0 r/eth0');
    expect(renderTopologySvg(clusterTopology(), { showMac: true })).toBe(
      renderTopologySvg(clusterTopology(), { showMac: true }),
    );
  });
});

function svgHasNoMacs(root: XmlNode): boolean {
  return !/([0-9a-f]{2}:){5}[0-9a-f]{2}/.test(allText(root));
}
