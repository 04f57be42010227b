// Topology diagram of a scenario, as SVG text: each namespace is a box holding its devices (name, kind,
// addresses, optionally the MAC), bridges are bars under the ports enslaved to them (`master`), veth pairs are
// lines between their two ends (`peer`), VXLAN tunnels are dashed lines between the VXLAN devices they join (see
// tunnels.ts), and down devices are greyed with their operstate. The layout is a tidy tree and entirely
// deterministic (no force simulation): in each connected group of namespaces one sits at the bottom and its veth
// neighbours are stacked above it level by level. The bottom one is a namespace others plug into (their device is
// a port of its bridge) while it plugs into none, such as the initial namespace holding the underlay segments;
// among those, or among all when there is none, the most central (smallest eccentricity, then most links, then
// first listed). So an underlay reads as nodes over it and pods over their node, a router as its two sides over
// it. Unconnected groups stand side by side. Devices keep the snapshot's order, with a bridge's ports kept
// together. Tunnels run through the empty lanes between levels (lanes.ts), widened to fit them, so they never cut
// through a box; a remote that leads nowhere is a short dangling stub labelled with its address. A legend names
// the kinds of line drawn. Limits: veth links that close a cycle are drawn as plain curves and may cross boxes;
// tunnels cross the veth links in their lane; a tunnel's label keeps clear of the others only by sliding along its
// run; loopback is hidden unless asked for.

import { hierarchy } from 'd3-hierarchy';
import { scaleOrdinal } from 'd3-scale';
import { linkVertical } from 'd3-shape';
import type { TopoDevice, TopologySnapshot } from '../topology.js';
import { type LaneChip, type LaneRequest, planLanes, roundedPath, type YRef } from './lanes.js';
import { esc, NS_PALETTE, num, svgDocument, text, textWidth, tint } from './svg.js';
import { resolveTunnels, stubLabel, tunnelLabel } from './tunnels.js';

export interface TopologyOptions {
  title?: string;
  /** Print each device's MAC address (default false). */
  showMac?: boolean;
  /** Draw `lo` (default false). */
  showLoopback?: boolean;
}

const NAME = 12;
const SMALL = 10.5;
const LINE_H = 15;
const PAD = 10;
const CHIP_GAP = 14;
const STUB = 14;
const BAR_H = 22;
const LEVEL_GAP = 70;
const SIBLING_GAP = 28;
const MARGIN = 16;
const GREY = '#9a9a9a';
const VETH_INK = '#4a4a4a';
const TUNNEL_INK = '#c2185b';
const TUNNEL_DASH = '9 5';
/** Lane geometry for tunnels: first track's distance from the edge routes enter by, track spacing, and the room
 * kept beyond the last track so veth links crossing the lane still read as curves. */
const LANE_EDGE = 20;
const TRACK = 18;
const LANE_FAR = 34;
const LEGEND_H = 16;

interface Chip {
  dev: TopoDevice;
  lines: { text: string; size: number; fill: string }[];
  w: number;
  h: number;
  /** Offset of the chip's left edge from the box's left edge. */
  dx: number;
  down: boolean;
  /** A port of a bar drawn in the same box (a line hangs under it). */
  port: boolean;
}

interface Bar {
  dev: TopoDevice;
  label: string;
  dx: number;
  w: number;
  ports: Chip[];
}

interface NsBox {
  name: string;
  index: number;
  ipForward: boolean;
  chips: Chip[];
  bars: Bar[];
  titleW: number;
  w: number;
  h: number;
  chipsH: number;
  children: NsBox[];
  /** Width reserved for this box and everything stacked above it. */
  subW: number;
  x: number;
  y: number;
  depth: number;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Rect, b: Rect, gap: number) =>
  a.x < b.x + b.w + gap && b.x < a.x + a.w + gap && a.y < b.y + b.h + gap && b.y < a.y + a.h + gap;

interface Link {
  a: { ns: string; dev: string };
  b: { ns: string; dev: string };
}

const key = (ns: string, dev: string) => `${ns}\u0000${dev}`;

function chipFor(
  d: TopoDevice,
  showMac: boolean,
  ns: ReadonlySet<string>,
  devsOf: (n: string) => Set<string>,
  barMasters: ReadonlySet<string>,
): Chip {
  const down = !d.up || d.operState === 'DOWN' || d.operState === 'LOWERLAYERDOWN';
  const lines: Chip['lines'] = [];
  const ink = down ? GREY : '#1a1a1a';
  for (const a of d.addrs) lines.push({ text: a, size: SMALL, fill: down ? GREY : '#333333' });
  if (d.vxlan) {
    const vx = d.vxlan;
    lines.push({ text: `id ${vx.vni}${vx.local !== undefined ? ` local ${vx.local}` : ''}`, size: SMALL, fill: GREY });
  }
  if (showMac) lines.push({ text: d.mac, size: SMALL, fill: GREY });
  if (d.master !== undefined && !barMasters.has(d.master)) {
    lines.push({ text: `master ${d.master}`, size: SMALL, fill: GREY });
  }
  if (d.peer && (!ns.has(d.peer.ns) || !devsOf(d.peer.ns).has(d.peer.dev))) {
    lines.push({ text: `peer ${d.peer.ns}/${d.peer.dev} (not shown)`, size: SMALL, fill: GREY });
  }
  if (down) lines.push({ text: d.up ? d.operState : 'DOWN', size: SMALL, fill: '#b03030' });
  const head = textWidth(d.name, NAME) + 6 + textWidth(d.kind, SMALL - 1);
  const w = Math.max(70, head, ...lines.map((l) => textWidth(l.text, l.size))) + 14;
  return {
    dev: d,
    lines: [{ text: d.name, size: NAME, fill: ink }, ...lines],
    w,
    h: 10 + (lines.length + 1) * LINE_H,
    dx: 0,
    down,
    port: d.master !== undefined && barMasters.has(d.master),
  };
}

function barLabel(d: TopoDevice, showMac: boolean): string {
  return [d.name, ...d.addrs, ...(showMac ? [d.mac] : []), ...(d.up ? [] : ['DOWN'])].join('  ');
}

/** Lexicographic comparison of equal-length number tuples. */
function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

type LegendItem = 'veth' | 'bridge port' | 'VXLAN tunnel';

/** One row of samples and names, starting at (x, y) where y is the row's vertical middle. */
function legend(items: LegendItem[], x: number, y: number): { svg: string; w: number } {
  const parts = ['<g class="legend">'];
  let cx = x;
  for (const it of items) {
    if (it === 'veth')
      parts.push(
        `<line x1="${num(cx)}" y1="${num(y)}" x2="${num(cx + 28)}" y2="${num(y)}" stroke="${VETH_INK}" stroke-width="2"/>`,
      );
    else if (it === 'bridge port')
      parts.push(
        `<line x1="${num(cx + 14)}" y1="${num(y - 7)}" x2="${num(cx + 14)}" y2="${num(y + 1)}" stroke="${NS_PALETTE[0]}" stroke-width="2"/>`,
        `<rect x="${num(cx)}" y="${num(y + 1)}" width="28" height="6" rx="2" fill="${NS_PALETTE[0]}"/>`,
      );
    else
      parts.push(
        `<line x1="${num(cx)}" y1="${num(y)}" x2="${num(cx + 28)}" y2="${num(y)}" stroke="${TUNNEL_INK}" stroke-width="2.2" stroke-dasharray="${TUNNEL_DASH}"/>`,
      );
    parts.push(text(cx + 34, y + 3.5, it, { size: SMALL, fill: '#444444' }));
    cx += 34 + textWidth(it, SMALL) + 22;
  }
  parts.push('</g>');
  return { svg: parts.join(''), w: cx - 22 - x };
}

export function renderTopologySvg(topo: TopologySnapshot, opts: TopologyOptions = {}): string {
  const showMac = opts.showMac ?? false;
  const visible = (d: TopoDevice) => (opts.showLoopback ?? false) || d.kind !== 'loopback';
  const nsNames = new Set(topo.namespaces.map((n) => n.name));
  const devSets = new Map(topo.namespaces.map((n) => [n.name, new Set(n.devices.filter(visible).map((d) => d.name))]));
  const devsOf = (n: string) => devSets.get(n) ?? new Set<string>();
  const colour = scaleOrdinal<string, string>()
    .domain(topo.namespaces.map((n) => n.name))
    .range(NS_PALETTE);

  // Boxes: chips in snapshot order, a bridge's ports gathered where its first port stands, bridges as bars.
  const boxes = new Map<string, NsBox>();
  topo.namespaces.forEach((n, index) => {
    const devs = n.devices.filter(visible);
    const bridges = new Map(devs.filter((d) => d.kind === 'bridge').map((d) => [d.name, d]));
    const barMasters: ReadonlySet<string> = new Set(bridges.keys());
    const chips: Chip[] = [];
    const bars: Bar[] = [];
    let cursor = 0;
    const placeChip = (c: Chip) => {
      c.dx = cursor;
      chips.push(c);
      cursor += c.w + CHIP_GAP;
    };
    const placed = new Set<string>();
    for (const d of devs) {
      if (placed.has(d.name) || d.kind === 'bridge') continue;
      const br = d.master !== undefined ? bridges.get(d.master) : undefined;
      if (!br) {
        placed.add(d.name);
        placeChip(chipFor(d, showMac, nsNames, devsOf, barMasters));
        continue;
      }
      // The whole port group, centred over its bar when the bar's label is wider than the ports.
      const ports = devs.filter((p) => p.master === br.name && p.kind !== 'bridge');
      const portChips = ports.map((p) => chipFor(p, showMac, nsNames, devsOf, barMasters));
      const portsW = portChips.reduce((s, c) => s + c.w, 0) + CHIP_GAP * (portChips.length - 1);
      const label = barLabel(br, showMac);
      const barW = Math.max(portsW, textWidth(label, SMALL) + 20);
      const start = cursor;
      cursor += (barW - portsW) / 2;
      for (const [i, c] of portChips.entries()) {
        placed.add(ports[i]!.name);
        placeChip(c);
      }
      cursor = start + barW + CHIP_GAP;
      bars.push({ dev: br, label, dx: start, w: barW, ports: portChips });
      placed.add(br.name);
    }
    for (const br of bridges.values()) {
      if (placed.has(br.name)) continue;
      const label = barLabel(br, showMac);
      const w = textWidth(label, SMALL) + 20;
      bars.push({ dev: br, label, dx: cursor, w, ports: [] });
      cursor += w + CHIP_GAP;
    }
    const titleW = Math.max(textWidth(n.name, NAME + 1), n.ipForward ? textWidth('ip_forward=1', SMALL - 1) : 0) + PAD;
    const chipsH = chips.length ? Math.max(...chips.map((c) => c.h)) : 0;
    const innerW = Math.max(0, cursor - CHIP_GAP);
    for (const c of chips) c.dx += PAD + titleW + PAD;
    for (const b of bars) b.dx += PAD + titleW + PAD;
    const h = Math.max(PAD + chipsH + (bars.length ? (chips.length ? STUB : 0) + BAR_H : 0) + PAD, 44);
    boxes.set(n.name, {
      name: n.name,
      index,
      ipForward: n.ipForward,
      chips,
      bars,
      titleW,
      w: PAD + titleW + PAD + innerW + (innerW > 0 ? PAD : 0),
      h,
      chipsH,
      children: [],
      subW: 0,
      x: 0,
      y: 0,
      depth: 0,
    });
  });

  // veth links between visible ends, each pair once, in the order their first end is listed.
  const links: Link[] = [];
  const seenLink = new Set<string>();
  for (const n of topo.namespaces) {
    for (const d of n.devices) {
      if (!visible(d) || d.kind !== 'veth' || !d.peer || !devsOf(d.peer.ns).has(d.peer.dev)) continue;
      const a = key(n.name, d.name);
      const b = key(d.peer.ns, d.peer.dev);
      const k = a < b ? `${a}\u0001${b}` : `${b}\u0001${a}`;
      if (seenLink.has(k)) continue;
      seenLink.add(k);
      links.push({ a: { ns: n.name, dev: d.name }, b: { ns: d.peer.ns, dev: d.peer.dev } });
    }
  }

  // Neighbours of each namespace, ordered by the position of the chip that leads to them; and which namespaces
  // plug into which (their end is an ordinary device, the other end a bridge port).
  const chipPos = (ns: string, dev: string) => boxes.get(ns)!.chips.findIndex((c) => c.dev.name === dev);
  const isPort = (ns: string, dev: string) => boxes.get(ns)!.chips.find((c) => c.dev.name === dev)?.port ?? false;
  const nbrs = new Map<string, string[]>([...boxes.keys()].map((k) => [k, []]));
  const nbrEntries = new Map<string, { to: string; pos: number }[]>([...boxes.keys()].map((k) => [k, []]));
  const pluggedInto = new Set<string>();
  const plugsIn = new Set<string>();
  for (const l of links) {
    if (l.a.ns === l.b.ns) continue;
    nbrEntries.get(l.a.ns)!.push({ to: l.b.ns, pos: chipPos(l.a.ns, l.a.dev) });
    nbrEntries.get(l.b.ns)!.push({ to: l.a.ns, pos: chipPos(l.b.ns, l.b.dev) });
    const pa = isPort(l.a.ns, l.a.dev);
    const pb = isPort(l.b.ns, l.b.dev);
    if (pa !== pb) {
      pluggedInto.add(pa ? l.a.ns : l.b.ns);
      plugsIn.add(pa ? l.b.ns : l.a.ns);
    }
  }
  for (const [k, es] of nbrEntries) {
    const ordered = [...es].sort((p, q) => p.pos - q.pos || boxes.get(p.to)!.index - boxes.get(q.to)!.index);
    for (const e of ordered) if (!nbrs.get(k)!.includes(e.to)) nbrs.get(k)!.push(e.to);
  }
  const bfs = (start: string): Map<string, number> => {
    const dist = new Map([[start, 0]]);
    const q = [start];
    for (let i = 0; i < q.length; i++) {
      for (const m of nbrs.get(q[i]!)!) {
        if (dist.has(m)) continue;
        dist.set(m, dist.get(q[i]!)! + 1);
        q.push(m);
      }
    }
    return dist;
  };

  // Connected groups, each rooted at its base namespace and grown breadth-first.
  const roots: NsBox[] = [];
  const done = new Set<string>();
  for (const n of topo.namespaces) {
    if (done.has(n.name)) continue;
    const members = [...bfs(n.name).keys()];
    for (const m of members) done.add(m);
    const hubs = members.filter((m) => pluggedInto.has(m) && !plugsIn.has(m));
    let best = members[0]!;
    let bestKey = [Number.POSITIVE_INFINITY, 0, 0];
    for (const m of hubs.length > 0 ? hubs : members) {
      const k = [Math.max(...bfs(m).values()), -nbrs.get(m)!.length, boxes.get(m)!.index];
      if (lexLess(k, bestKey)) {
        best = m;
        bestKey = k;
      }
    }
    const seen = new Set([best]);
    const q = [boxes.get(best)!];
    for (let i = 0; i < q.length; i++) {
      const b = q[i]!;
      for (const m of nbrs.get(b.name)!) {
        if (seen.has(m)) continue;
        seen.add(m);
        const c = boxes.get(m)!;
        b.children.push(c);
        q.push(c);
      }
    }
    roots.push(boxes.get(best)!);
  }

  // Tidy layout: a subtree is as wide as its box or its children side by side, whichever is wider.
  const levelH: number[] = [];
  const trees = roots.map((r) => hierarchy(r, (b) => b.children));
  for (const t of trees) {
    t.eachAfter((n) => {
      const kids = n.children ?? [];
      const kidsW = kids.reduce((s, k) => s + k.data.subW, 0) + SIBLING_GAP * Math.max(0, kids.length - 1);
      n.data.subW = Math.max(n.data.w, kidsW);
      n.data.depth = n.depth;
      levelH[n.depth] = Math.max(levelH[n.depth] ?? 0, n.data.h);
    });
  }
  let left = MARGIN;
  for (const t of trees) {
    const ranges = new Map<NsBox, number>([[t.data, left]]);
    t.eachBefore((n) => {
      const start = ranges.get(n.data)!;
      n.data.x = start + (n.data.subW - n.data.w) / 2;
      const kids = n.children ?? [];
      const kidsW = kids.reduce((s, k) => s + k.data.subW, 0) + SIBLING_GAP * Math.max(0, kids.length - 1);
      let kx = start + (n.data.subW - kidsW) / 2;
      for (const k of kids) {
        ranges.set(k.data, kx);
        kx += k.data.subW + SIBLING_GAP;
      }
    });
    left += t.data.subW + SIBLING_GAP * 2;
  }
  const contentW = left - SIBLING_GAP * 2 + MARGIN;

  // Tunnels and stubs, routed through the lanes between levels (lane k lies under level k).
  const ordered = [...boxes.values()];
  const chipAt = new Map<string, { box: NsBox; chip: Chip }>();
  for (const b of ordered) for (const c of b.chips) chipAt.set(key(b.name, c.dev.name), { box: b, chip: c });
  const { tunnels, stubs } = resolveTunnels(topo, visible);
  const laneChips = new Map<string, LaneChip>();
  const useChip = (ns: string, dev: string): string | undefined => {
    const k = key(ns, dev);
    const at = chipAt.get(k);
    if (!at) return undefined;
    laneChips.set(k, { x: at.box.x + at.chip.dx, w: at.chip.w, level: at.box.depth, port: at.chip.port });
    return k;
  };
  const requests: LaneRequest[] = [];
  const tunnelOf = new Map<number, (typeof tunnels)[number]>();
  const stubOf = new Map<number, (typeof stubs)[number]>();
  for (const t of tunnels) {
    const a = useChip(t.a.ns, t.a.dev);
    const b = useChip(t.b.ns, t.b.dev);
    if (a === undefined || b === undefined) continue;
    tunnelOf.set(requests.length, t);
    requests.push({ id: requests.length, a, b });
  }
  for (const s of stubs) {
    const a = useChip(s.from.ns, s.from.dev);
    if (a === undefined) continue;
    stubOf.set(requests.length, s);
    requests.push({ id: requests.length, a, tail: 18 + textWidth(stubLabel(s), SMALL - 0.5) });
  }
  const rows = new Map<number, [number, number][]>();
  for (const b of ordered) rows.set(b.depth, [...(rows.get(b.depth) ?? []), [b.x, b.x + b.w]]);
  const plan = planLanes(laneChips, rows, requests, MARGIN / 2, contentW - MARGIN / 2);
  const tracksIn = (lane: number) => plan.lanes.get(lane)?.tracks ?? 0;
  const laneNeed = (lane: number, far: number) =>
    tracksIn(lane) > 0 ? LANE_EDGE + (tracksIn(lane) - 1) * TRACK + far : 0;

  // Vertical layout: the top lane, then each level with the lane under it.
  const levels = levelH.length;
  const titleH = opts.title !== undefined ? 32 : 0;
  const levelTop: number[] = [];
  const laneSpan = new Map<number, [number, number]>();
  let yy = MARGIN + titleH;
  const topNeed = laneNeed(levels, 12);
  if (topNeed > 0) {
    laneSpan.set(levels, [yy, yy + topNeed]);
    yy += topNeed;
  }
  for (let d = levels - 1; d >= 0; d--) {
    levelTop[d] = yy;
    yy += levelH[d]!;
    const gap = d > 0 ? Math.max(LEVEL_GAP, laneNeed(d, LANE_FAR)) : laneNeed(0, 12);
    laneSpan.set(d, [yy, yy + gap]);
    yy += gap;
  }
  for (const b of ordered) b.y = levelTop[b.depth] ?? MARGIN + titleH;

  const legendItems: LegendItem[] = [];
  if (links.length > 0) legendItems.push('veth');
  if (ordered.some((b) => b.bars.some((bar) => bar.ports.length > 0))) legendItems.push('bridge port');
  if (requests.length > 0) legendItems.push('VXLAN tunnel');
  const legendY = yy + (levels > 0 ? 10 : 0) + LEGEND_H / 2;
  const key0 = legendItems.length > 0 ? legend(legendItems, MARGIN, legendY) : undefined;
  const height = (key0 ? legendY + LEGEND_H / 2 + 4 : yy) + MARGIN;
  const width = Math.max(
    contentW,
    plan.maxX + MARGIN,
    key0 ? key0.w + 2 * MARGIN : 0,
    opts.title !== undefined ? textWidth(opts.title, 15) + 2 * MARGIN : 0,
  );

  const body: string[] = [];
  if (opts.title !== undefined)
    body.push(text(MARGIN, MARGIN + 17, opts.title, { size: 15, weight: 'bold', fill: '#222222' }));

  // Boxes first, links over them, chips over the links' ends, tunnel labels on top.
  for (const b of ordered) {
    const c = colour(b.name);
    body.push(`<g class="netns" data-name="${esc(b.name)}">`);
    body.push(
      `<rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" rx="8" fill="${tint(c, 0.9)}" stroke="${c}" stroke-width="1.5"/>`,
    );
    body.push(text(b.x + PAD, b.y + PAD + 13, b.name, { size: NAME + 1, weight: 'bold', fill: c }));
    if (b.ipForward) body.push(text(b.x + PAD, b.y + PAD + 28, 'ip_forward=1', { size: SMALL - 1, fill: '#555555' }));
    body.push('</g>');
  }

  const link = linkVertical<unknown, [number, number]>().digits(1);
  const anchor = (box: NsBox, chip: Chip, top: boolean): [number, number] => [
    box.x + chip.dx + chip.w / 2,
    top ? box.y + PAD : box.y + PAD + chip.h,
  ];
  for (const l of links) {
    const ea = chipAt.get(key(l.a.ns, l.a.dev));
    const eb = chipAt.get(key(l.b.ns, l.b.dev));
    if (!ea || !eb) continue;
    const down = ea.chip.dev.up && eb.chip.dev.up ? '' : ' stroke-dasharray="6 4"';
    let d: string;
    if (ea.box !== eb.box) {
      const [upper, lower] = ea.box.y < eb.box.y ? [ea, eb] : [eb, ea];
      if (upper.box.y === lower.box.y) {
        const p = anchor(upper.box, upper.chip, true);
        const q = anchor(lower.box, lower.chip, true);
        d = `M${num(p[0])},${num(p[1])}C${num(p[0])},${num(p[1] - 40)} ${num(q[0])},${num(q[1] - 40)} ${num(q[0])},${num(q[1])}`;
      } else d = link({ source: anchor(upper.box, upper.chip, false), target: anchor(lower.box, lower.chip, true) })!;
    } else {
      const p = anchor(ea.box, ea.chip, true);
      const q = anchor(eb.box, eb.chip, true);
      d = `M${num(p[0])},${num(p[1])}C${num(p[0])},${num(p[1] - 30)} ${num(q[0])},${num(q[1] - 30)} ${num(q[0])},${num(q[1])}`;
    }
    body.push(
      `<path class="veth" data-ends="${esc(`${l.a.ns}/${l.a.dev} ${l.b.ns}/${l.b.dev}`)}" d="${d}" fill="none" stroke="${VETH_INK}" stroke-width="2"${down}/>`,
    );
  }

  const yOf = (y: YRef): number => {
    if ('chip' in y) {
      const at = chipAt.get(y.chip)!;
      return y.side === 'top' ? at.box.y + PAD : at.box.y + PAD + at.chip.h;
    }
    const [top, bottom] = laneSpan.get(y.lane)!;
    return plan.lanes.get(y.lane)!.fromTop ? top + LANE_EDGE + y.track * TRACK : bottom - LANE_EDGE - y.track * TRACK;
  };
  // Stubs first: their labels are fixed at their ends, a tunnel's slides along its run to keep clear of them.
  const labels: string[] = [];
  const dots: string[] = [];
  const pills: Rect[] = [];
  const pill = (x: number, y: number, w: number): Rect => ({ x, y: y - 7.5, w, h: 15 });
  const clear = (r: Rect) => pills.every((o) => !overlaps(r, o, 4));
  const routes = [...plan.routes].sort((p, q) => Number(tunnelOf.has(p.id)) - Number(tunnelOf.has(q.id)));
  for (const r of routes) {
    const pts = r.points.map((p): [number, number] => [p.x, yOf(p.y)]);
    const ends = r.points.filter((p) => 'chip' in p.y).map((p) => chipAt.get((p.y as { chip: string }).chip)!);
    const ink = ends.every((e) => !e.chip.down) ? TUNNEL_INK : GREY;
    const d = roundedPath(pts, 8, num);
    for (const p of r.points)
      if ('chip' in p.y) dots.push(`<circle cx="${num(p.x)}" cy="${num(yOf(p.y))}" r="3" fill="${ink}"/>`);
    const t = tunnelOf.get(r.id);
    if (t) {
      body.push(
        `<path class="tunnel" data-ends="${esc(`${t.a.ns}/${t.a.dev} ${t.b.ns}/${t.b.dev}`)}" data-vni="${t.vni}" d="${d}" fill="none" stroke="${ink}" stroke-width="2.2" stroke-dasharray="${TUNNEL_DASH}"/>`,
      );
      // A pill on the line, so the dashes and any veth crossing there stop short of the text.
      const [p, q] = [pts[r.labelSeg]!, pts[r.labelSeg + 1]!];
      const label = tunnelLabel(t);
      const lw = textWidth(label, SMALL - 0.5) + 12;
      const [lo, hi] = [Math.min(p[0], q[0]) + lw / 2 + 12, Math.max(p[0], q[0]) - lw / 2 - 12];
      const at = (f: number) => {
        const mx = p[0] + (q[0] - p[0]) * f;
        return pill((lo <= hi ? Math.min(Math.max(mx, lo), hi) : (p[0] + q[0]) / 2) - lw / 2, p[1], lw);
      };
      const box = [0.5, 0.3, 0.7, 0.15, 0.85].map(at).find(clear) ?? at(0.5);
      pills.push(box);
      labels.push(
        `<g class="tunnel-label"><rect x="${num(box.x)}" y="${num(box.y)}" width="${num(lw)}" height="15" rx="7.5" fill="#ffffff" stroke="${ink}" stroke-width="1"/>${text(box.x + lw / 2, p[1] + 3.5, label, { size: SMALL - 0.5, anchor: 'middle', fill: ink })}</g>`,
      );
      continue;
    }
    const s = stubOf.get(r.id)!;
    const end = pts.at(-1)!;
    body.push(
      `<g class="tunnel-stub" data-from="${esc(`${s.from.ns}/${s.from.dev}`)}" data-remote="${esc(s.remote)}"><path d="${d}" fill="none" stroke="${ink}" stroke-width="2.2" stroke-dasharray="${TUNNEL_DASH}"/><circle cx="${num(end[0])}" cy="${num(end[1])}" r="3.5" fill="#ffffff" stroke="${ink}" stroke-width="1.5"/></g>`,
    );
    const label = stubLabel(s);
    const box = pill(end[0] + 6, end[1], textWidth(label, SMALL - 0.5) + 12);
    pills.push(box);
    labels.push(
      `<g class="tunnel-label"><rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.w)}" height="15" rx="7.5" fill="#ffffff" stroke="${ink}" stroke-width="1" stroke-dasharray="3 2"/>${text(box.x + 6, end[1] + 3.5, label, { size: SMALL - 0.5, fill: ink })}</g>`,
    );
  }

  for (const b of ordered) {
    const c = colour(b.name);
    for (const bar of b.bars) {
      const bx = b.x + bar.dx;
      const by = b.y + PAD + (b.chips.length ? b.chipsH + STUB : 0);
      const up = bar.dev.up;
      for (const p of bar.ports) {
        const px = b.x + p.dx + p.w / 2;
        body.push(
          `<line x1="${num(px)}" y1="${num(b.y + PAD + p.h)}" x2="${num(px)}" y2="${num(by)}" stroke="${up ? c : GREY}" stroke-width="2"/>`,
        );
      }
      body.push(
        `<g class="bridge" data-name="${esc(bar.dev.name)}"><rect x="${num(bx)}" y="${num(by)}" width="${num(bar.w)}" height="${BAR_H}" rx="4" fill="${up ? c : '#cfcfcf'}"/>${text(bx + bar.w / 2, by + 15, bar.label, { size: SMALL, anchor: 'middle', fill: up ? '#ffffff' : '#666666', weight: 'bold' })}</g>`,
      );
    }
    for (const chip of b.chips) {
      const cx = b.x + chip.dx;
      const cy = b.y + PAD;
      const down = chip.down;
      const parts = [
        `<g class="dev${down ? ' down' : ''}" data-name="${esc(chip.dev.name)}">`,
        `<rect x="${num(cx)}" y="${num(cy)}" width="${num(chip.w)}" height="${num(chip.h)}" rx="4" fill="${down ? '#eeeeee' : '#ffffff'}" stroke="${down ? GREY : c}" stroke-width="1.3"${down ? ' stroke-dasharray="4 3"' : ''}/>`,
      ];
      chip.lines.forEach((l, i) => {
        const ly = cy + 4 + (i + 1) * LINE_H - 3;
        parts.push(
          text(cx + 7, ly, l.text, { size: l.size, fill: l.fill, ...(i === 0 ? { weight: 'bold' as const } : {}) }),
        );
        if (i === 0) {
          parts.push(text(cx + 7 + textWidth(l.text, NAME) + 6, ly, chip.dev.kind, { size: SMALL - 1, fill: GREY }));
        }
      });
      parts.push('</g>');
      body.push(parts.join(''));
    }
  }
  body.push(...dots, ...labels);
  if (key0) body.push(key0.svg);
  return svgDocument(width, height, body, opts.title);
}
