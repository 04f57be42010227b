// Orthogonal routing of long-distance links (VXLAN tunnels) through the empty lanes between the rows of a layered
// diagram, so that they never cut through a box. A route leaves its chip vertically (down, or up when a bridge bar
// sits under the chip), runs horizontally on a track of the lane it enters, and comes back vertically to the other
// chip; if the two chips open onto different lanes it changes lane through a vertical channel chosen where no box
// stands in the rows it crosses. Tracks are assigned shortest span first, each one beyond every shorter span it
// overlaps, and a chip's attachments are ordered by where their other ends lie, so spans nest like an arc diagram
// and routes in one lane do not cross each other. Entirely deterministic.
// Limits: only horizontal x extents are planned here; the caller turns lanes and tracks into y coordinates. Routes
// that open onto the same lane from opposite sides may still cross; veth links crossing a lane are not avoided.

export interface LaneChip {
  /** Left edge and width of the chip. */
  x: number;
  w: number;
  /** Row of the chip's box; 0 is the bottom row. */
  level: number;
  /** Something hangs under the chip (a bridge port's line to its bar), so routes leave through its top. */
  port: boolean;
}

export interface LaneRequest {
  id: number;
  a: string;
  /** The other chip, or undefined for a stub that ends in the lane after `tail` units. */
  b?: string;
  tail?: number;
}

/** A y coordinate the caller resolves: a chip's edge, or a track inside a lane (lane k lies under row k). */
export type YRef = { chip: string; side: 'top' | 'bottom' } | { lane: number; track: number };

export interface RoutePoint {
  x: number;
  y: YRef;
}

export interface PlannedRoute {
  id: number;
  points: RoutePoint[];
  /** Index of the longest horizontal segment (points[i] → points[i + 1]), where a label goes. */
  labelSeg: number;
}

export interface LaneInfo {
  tracks: number;
  /** Track 0 is next to the lane's top edge (most routes enter from the row above), else next to its bottom. */
  fromTop: boolean;
}

export interface LanePlan {
  routes: PlannedRoute[];
  lanes: Map<number, LaneInfo>;
  /** Rightmost x any route or stub reaches. */
  maxX: number;
}

/** Horizontal length of a stub before its tail. */
export const STUB_RUN = 22;
const TRACK_PAD = 8;
const CHANNEL_PAD = 12;

interface Seg {
  id: number;
  lane: number;
  lo: number;
  hi: number;
  track: number;
}

type Side = 'top' | 'bottom';

const laneOf = (side: Side, level: number) => (side === 'bottom' ? level : level + 1);
const centre = (c: LaneChip) => c.x + c.w / 2;
/** Where a stub's span ends, seen from the middle of its chip (its attachment is not placed yet). */
const stubEnd = (c: LaneChip, r: LaneRequest) => centre(c) + STUB_RUN + (r.tail ?? 0);

/** Free x nearest `mid` outside every span (padded), within [minX, maxX]. */
function channelX(spans: [number, number][], mid: number, minX: number, maxX: number, used: Set<number>): number {
  const blocked = spans
    .map(([l, h]) => [l - CHANNEL_PAD, h + CHANNEL_PAD] as [number, number])
    .sort((p, q) => p[0] - q[0]);
  const free: [number, number][] = [];
  let from = minX;
  for (const [l, h] of blocked) {
    if (l > from) free.push([from, l]);
    from = Math.max(from, h);
  }
  if (from < maxX) free.push([from, maxX]);
  let best = maxX;
  let bestD = Number.POSITIVE_INFINITY;
  for (const [l, h] of free) {
    // A narrow gap (between sibling boxes) is taken down its middle.
    const x = h - l < 2 * CHANNEL_PAD ? (l + h) / 2 : Math.min(Math.max(mid, l), h);
    const d = Math.abs(x - mid);
    if (d < bestD) {
      best = x;
      bestD = d;
    }
  }
  while (used.has(Math.round(best))) best += 8;
  used.add(Math.round(best));
  return best;
}

/**
 * Plans every request. `rows` gives, per row, the x extents of its boxes (for lane changes); `minX`/`maxX` bound
 * the channels.
 */
export function planLanes(
  chips: ReadonlyMap<string, LaneChip>,
  rows: ReadonlyMap<number, [number, number][]>,
  reqs: readonly LaneRequest[],
  minX: number,
  maxX: number,
): LanePlan {
  interface Att {
    id: number;
    chip: string;
    side: Side;
    other: number;
    x: number;
  }
  interface Draft {
    req: LaneRequest;
    ends: Att[];
    channel?: number;
  }
  const used = new Set<number>();
  const drafts: Draft[] = [];
  for (const req of reqs) {
    const ca = chips.get(req.a)!;
    const cb = req.b !== undefined ? chips.get(req.b) : undefined;
    if (!cb) {
      drafts.push({
        req,
        ends: [{ id: req.id, chip: req.a, side: ca.port ? 'top' : 'bottom', other: stubEnd(ca, req), x: 0 }],
      });
      continue;
    }
    let sa: Side;
    let sb: Side;
    if (ca.level === cb.level) sa = sb = ca.port || cb.port ? 'top' : 'bottom';
    else {
      const aUpper = ca.level > cb.level;
      const upper = aUpper ? ca : cb;
      const su: Side = upper.port ? 'top' : 'bottom';
      sa = aUpper ? su : 'top';
      sb = aUpper ? 'top' : su;
    }
    const la = laneOf(sa, ca.level);
    const lb = laneOf(sb, cb.level);
    let channel: number | undefined;
    if (la !== lb) {
      const spans: [number, number][] = [];
      for (let lv = Math.min(la, lb); lv < Math.max(la, lb); lv++) spans.push(...(rows.get(lv) ?? []));
      channel = channelX(spans, (centre(ca) + centre(cb)) / 2, minX, maxX, used);
    }
    drafts.push({
      req,
      ends: [
        { id: req.id, chip: req.a, side: sa, other: channel ?? centre(cb), x: 0 },
        { id: req.id, chip: req.b!, side: sb, other: channel ?? centre(ca), x: 0 },
      ],
      ...(channel !== undefined ? { channel } : {}),
    });
  }

  // Attachment points spread over the chip's edge, ordered by where each route heads.
  const groups = new Map<string, Att[]>();
  for (const d of drafts)
    for (const e of d.ends) {
      const k = `${e.chip}\u0000${e.side}`;
      const g = groups.get(k);
      if (g) g.push(e);
      else groups.set(k, [e]);
    }
  for (const g of groups.values()) {
    // Left-going routes left of right-going ones; within each side the farther a route goes, the further it attaches
    // from its direction of travel, since it takes the outer (deeper) track.
    const mid = centre(chips.get(g[0]!.chip)!);
    g.sort((p, q) => Number(p.other >= mid) - Number(q.other >= mid) || q.other - p.other || p.id - q.id);
    const c = chips.get(g[0]!.chip)!;
    g.forEach((e, i) => {
      e.x = c.x + (c.w * (i + 1)) / (g.length + 1);
    });
  }

  // Horizontal segments and the side each vertical enters its lane from.
  const segs: Seg[] = [];
  const entries = new Map<number, { above: number; below: number }>();
  const enter = (lane: number, fromAbove: boolean) => {
    const e = entries.get(lane) ?? { above: 0, below: 0 };
    if (fromAbove) e.above++;
    else e.below++;
    entries.set(lane, e);
  };
  const level = (a: Att) => chips.get(a.chip)!.level;
  let rightmost = minX;
  const segOf = new Map<number, Seg[]>();
  const addSeg = (id: number, lane: number, x1: number, x2: number) => {
    const s: Seg = { id, lane, lo: Math.min(x1, x2), hi: Math.max(x1, x2), track: 0 };
    segs.push(s);
    segOf.set(id, [...(segOf.get(id) ?? []), s]);
    rightmost = Math.max(rightmost, s.hi);
  };
  for (const d of drafts) {
    const [a, b] = d.ends;
    const la = laneOf(a!.side, level(a!));
    enter(la, a!.side === 'bottom');
    if (!b) {
      addSeg(d.req.id, la, a!.x, a!.x + STUB_RUN + (d.req.tail ?? 0));
      continue;
    }
    const lb = laneOf(b.side, level(b));
    enter(lb, b.side === 'bottom');
    if (d.channel === undefined) addSeg(d.req.id, la, a!.x, b.x);
    else {
      enter(la, la < lb);
      enter(lb, lb < la);
      addSeg(d.req.id, la, a!.x, d.channel);
      addSeg(d.req.id, lb, d.channel, b.x);
    }
  }

  // Tracks: shortest first, each beyond every already placed span it overlaps.
  const order = [...segs].sort((p, q) => p.hi - p.lo - (q.hi - q.lo) || p.lo - q.lo || p.id - q.id);
  const placed: Seg[] = [];
  const lanes = new Map<number, LaneInfo>();
  for (const s of order) {
    let t = 0;
    for (const o of placed)
      if (o.lane === s.lane && o.lo < s.hi + TRACK_PAD && s.lo < o.hi + TRACK_PAD) t = Math.max(t, o.track + 1);
    s.track = t;
    placed.push(s);
    const e = entries.get(s.lane) ?? { above: 0, below: 0 };
    const info = lanes.get(s.lane) ?? { tracks: 0, fromTop: e.above >= e.below };
    info.tracks = Math.max(info.tracks, t + 1);
    lanes.set(s.lane, info);
  }

  const routes: PlannedRoute[] = drafts.map((d) => {
    const [a, b] = d.ends;
    const ss = segOf.get(d.req.id)!;
    const at = (e: Att): RoutePoint => ({ x: e.x, y: { chip: e.chip, side: e.side } });
    const on = (s: Seg, x: number): RoutePoint => ({ x, y: { lane: s.lane, track: s.track } });
    let points: RoutePoint[];
    if (!b) points = [at(a!), on(ss[0]!, a!.x), on(ss[0]!, a!.x + STUB_RUN)];
    else if (d.channel === undefined) points = [at(a!), on(ss[0]!, a!.x), on(ss[0]!, b.x), at(b)];
    else points = [at(a!), on(ss[0]!, a!.x), on(ss[0]!, d.channel), on(ss[1]!, d.channel), on(ss[1]!, b.x), at(b)];
    let labelSeg = 1;
    if (d.channel !== undefined && Math.abs(b!.x - d.channel) > Math.abs(d.channel - a!.x)) labelSeg = 3;
    return { id: d.req.id, points, labelSeg };
  });
  return { routes, lanes, maxX: rightmost };
}

/** An orthogonal polyline as path data, its corners rounded with radius `r` (less where segments are short). */
export function roundedPath(pts: readonly [number, number][], r: number, fmt: (n: number) => string): string {
  const p = pts.filter((q, i) => i === 0 || q[0] !== pts[i - 1]![0] || q[1] !== pts[i - 1]![1]);
  if (p.length === 0) return '';
  let d = `M${fmt(p[0]![0])},${fmt(p[0]![1])}`;
  for (let i = 1; i < p.length; i++) {
    const [x, y] = p[i]!;
    const next = p[i + 1];
    if (!next) {
      d += `L${fmt(x)},${fmt(y)}`;
      break;
    }
    const [px, py] = p[i - 1]!;
    const lenIn = Math.hypot(x - px, y - py);
    const lenOut = Math.hypot(next[0] - x, next[1] - y);
    const k = Math.min(r, lenIn / 2, lenOut / 2);
    const ix = x - ((x - px) / lenIn) * k;
    const iy = y - ((y - py) / lenIn) * k;
    const ox = x + ((next[0] - x) / lenOut) * k;
    const oy = y + ((next[1] - y) / lenOut) * k;
    d += `L${fmt(ix)},${fmt(iy)}Q${fmt(x)},${fmt(y)} ${fmt(ox)},${fmt(oy)}`;
  }
  return d;
}
