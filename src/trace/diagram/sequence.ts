// Sequence diagram of a traced flow, as SVG text. Lifelines are the (namespace, device) pairs that carried frames,
// grouped and coloured by namespace in order of first appearance. Each received frame is an arrow from the device
// that put it on the link (`from` on the rx event: a veth's peer) to the receiving device; a transmitted frame that
// nobody received is a "lost message" ending in a dot, a received frame with no known sender a "found message"
// starting from one (UML notation). Drops are a red ✗ with the kernel's reason on the device's lifeline, or on a
// namespace-level "stack" lifeline when the drop names no device; socket events are notes over their namespace.
// Rows follow event order, not time, so bursts at one instant stay legible; the virtual time of each row is printed
// on the left. Layout uses d3-scale, marks use d3-shape; the SVG is written as text, so no DOM is needed.
// A packet forwarded inside a namespace (bridged or routed: same packet id, in on one device, out on another) gets a
// dotted connector from its ingress lifeline to the arrow that leaves, so the path reads across the diagram.
// Limits: route/neigh/fdb/stage/icmp events are not drawn (the text timeline has them); a frame is paired with its
// transmission by packet id and sending device, first in first out; very wide labels widen the diagram.

import { scaleLinear, scaleOrdinal, scalePoint } from 'd3-scale';
import { line, symbol, symbolTimes } from 'd3-shape';
import type { TraceEvent, TraceEventOf } from '../events.js';
import { formatTime } from '../text.js';
import { DROP_COLOUR, ellipsize, esc, NS_PALETTE, num, svgDocument, text, textWidth, tint } from './svg.js';

export interface SequenceOptions {
  title?: string;
  /** Only events of this scenario step. */
  step?: number;
  /** Longest arrow label, in characters (default 60); the full summary is kept as a tooltip. */
  maxLabel?: number;
}

/** The namespace-level lifeline for events that name no device. */
const STACK = '';

interface Lifeline {
  key: string;
  ns: string;
  dev: string;
}

type Row =
  | { kind: 'arrow'; t: number; from: string; to: string; via?: string; label: string; full: string }
  | { kind: 'lost'; t: number; at: string; via?: string; label: string; full: string }
  | { kind: 'found'; t: number; at: string; label: string; full: string }
  | { kind: 'drop'; t: number; at: string; reason: string; detail: string }
  | { kind: 'note'; t: number; ns: string; text: string };

const lkey = (ns: string, dev: string) => `${ns}\u0000${dev}`;

/**
 * An arrow label from a tcpdump-style summary: without the trailing length, TCP options and window (the tooltip
 * keeps the full text), cut to `max` characters.
 */
export function shortSummary(s: string, max: number): string {
  const t = s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/, options \[[^\]]*\]/, '')
    .replace(/, win \d+/, '')
    .replace(/,? length \d+$/, '');
  return ellipsize(t, max);
}

const FONT = 12;
const SMALL = 11;
const COL = 200;
const GROUP_GAP = 0.3; // extra space between namespaces, in columns
const ROW_H = 34;
const MARGIN = 16;

export function renderSequenceSvg(events: readonly TraceEvent[], opts: SequenceOptions = {}): string {
  const evs = opts.step === undefined ? events : events.filter((e) => e.step === opts.step);
  const maxLabel = opts.maxLabel ?? 60;

  // Pair every received frame with the transmission it came from: same packet, sent on the `from` device earlier.
  const pendingTx = new Map<string, number[]>();
  const matchedTx = new Set<number>();
  evs.forEach((e, i) => {
    if (e.type !== 'dev') return;
    if (e.dir === 'tx') {
      const k = `${e.pkt}\u0000${lkey(e.ns, e.dev)}`;
      const q = pendingTx.get(k);
      if (q) q.push(i);
      else pendingTx.set(k, [i]);
    } else if (e.from) {
      const q = pendingTx.get(`${e.pkt}\u0000${lkey(e.from.ns, e.from.dev)}`);
      const j = q?.shift();
      if (j !== undefined) matchedTx.add(j);
    }
  });

  // Lifelines, by first appearance; namespaces keep the order in which they first show up in any drawn event.
  const nsOrder: string[] = [];
  const byNs = new Map<string, Lifeline[]>();
  const lifelines = new Map<string, Lifeline>();
  const seeNs = (ns: string) => {
    if (!byNs.has(ns)) {
      byNs.set(ns, []);
      nsOrder.push(ns);
    }
  };
  const seeLifeline = (ns: string, dev: string) => {
    seeNs(ns);
    const k = lkey(ns, dev);
    if (lifelines.has(k)) return;
    const l = { key: k, ns, dev };
    lifelines.set(k, l);
    byNs.get(ns)!.push(l);
  };
  for (const e of evs) {
    if (e.type === 'dev') {
      if (e.dir === 'rx' && e.from) seeLifeline(e.from.ns, e.from.dev);
      seeLifeline(e.ns, e.dev);
    } else if (e.type === 'drop') seeLifeline(e.ns, e.dev ?? STACK);
    else if (e.type === 'sock') seeNs(e.ns);
  }
  for (const ns of nsOrder) if (byNs.get(ns)!.length === 0) seeLifeline(ns, STACK);

  // Where each packet last entered each namespace, for the forwarding connectors.
  const lastRx = new Map<string, string>();
  const viaFor = (pkt: number, ns: string, out: string): { via?: string } => {
    const v = lastRx.get(`${pkt}\u0000${ns}`);
    return v !== undefined && v !== out ? { via: v } : {};
  };
  const rows: Row[] = [];
  evs.forEach((e, i) => {
    if (e.type === 'dev') {
      const label = shortSummary(e.summary, maxLabel);
      const here = lkey(e.ns, e.dev);
      if (e.dir === 'tx') {
        if (!matchedTx.has(i)) {
          rows.push({ kind: 'lost', t: e.t, at: here, ...viaFor(e.pkt, e.ns, here), label, full: e.summary });
        }
      } else if (e.from) {
        const from = lkey(e.from.ns, e.from.dev);
        const via = viaFor(e.pkt, e.from.ns, from);
        rows.push({ kind: 'arrow', t: e.t, from, to: here, ...via, label, full: e.summary });
      } else rows.push({ kind: 'found', t: e.t, at: here, label, full: e.summary });
      if (e.dir === 'rx') lastRx.set(`${e.pkt}\u0000${e.ns}`, here);
    } else if (e.type === 'drop') {
      rows.push({ kind: 'drop', t: e.t, at: lkey(e.ns, e.dev ?? STACK), reason: e.reason, detail: e.detail });
    } else if (e.type === 'sock') {
      rows.push({ kind: 'note', t: e.t, ns: e.ns, text: noteText(e, maxLabel) });
    }
  });

  // Horizontal layout: one column per lifeline, a little extra space between namespaces.
  const times = rows.map((r) => formatTime(r.t));
  const timeW = Math.max(textWidth('0.000000000', SMALL), ...times.map((s) => textWidth(s, SMALL)));
  const slot = new Map<string, number>();
  let s = 0;
  nsOrder.forEach((ns, g) => {
    if (g > 0) s += GROUP_GAP;
    for (const l of byNs.get(ns)!) slot.set(l.key, s++);
  });
  const firstX = MARGIN + timeW + 24 + COL / 2;
  const x = scaleLinear()
    .domain([0, 1])
    .range([firstX, firstX + COL]);
  const colour = scaleOrdinal<string, string>().domain(nsOrder).range(NS_PALETTE);
  const lx = (k: string) => x(slot.get(k)!);
  const who = (k: string) => {
    const l = lifelines.get(k)!;
    return `${l.ns}/${l.dev}`;
  };

  const titleH = opts.title !== undefined ? 30 : 0;
  const headTop = MARGIN + titleH;
  const devTop = headTop + 24;
  const devH = 24;
  const rowTop = devTop + devH + 30;
  const y = scalePoint<number>()
    .domain(rows.map((_, i) => i))
    .range([rowTop, rowTop + Math.max(0, rows.length - 1) * ROW_H]);
  const rowsBottom = rows.length ? y(rows.length - 1)! + ROW_H * 0.6 : rowTop;
  const minTextX = MARGIN + timeW + 12;

  const back: string[] = [];
  const fore: string[] = [];
  const dropBands: number[] = [];
  let maxX = x(Math.max(0, s - 1)) + COL / 2;
  const extend = (right: number) => {
    if (right > maxX) maxX = right;
  };

  // Header: a tinted band per namespace behind its lifelines, its name on top, a box per device.
  for (const ns of nsOrder) {
    const ls = byNs.get(ns)!;
    const c = colour(ns);
    const left = lx(ls[0]!.key) - COL / 2 + 6;
    const right = lx(ls[ls.length - 1]!.key) + COL / 2 - 6;
    back.push(
      `<rect x="${num(left)}" y="${num(headTop)}" width="${num(right - left)}" height="${num(rowsBottom + 8 - headTop)}" rx="6" fill="${tint(c, 0.92)}" stroke="${tint(c, 0.6)}"/>`,
    );
    back.push(
      text((left + right) / 2, headTop + 16, ellipsize(ns, Math.floor((right - left) / 8)), {
        size: FONT + 1,
        anchor: 'middle',
        fill: c,
        weight: 'bold',
      }),
    );
    for (const l of ls) {
      const cx = lx(l.key);
      const name = l.dev === STACK ? 'stack' : l.dev;
      const w = Math.min(COL - 24, Math.max(56, textWidth(name, FONT) + 16));
      const dash = l.dev === STACK ? ' stroke-dasharray="3 2"' : '';
      back.push(
        [
          `<g class="lifeline" data-ns="${esc(l.ns)}" data-dev="${esc(l.dev)}">`,
          `<line x1="${num(cx)}" y1="${num(devTop + devH)}" x2="${num(cx)}" y2="${num(rowsBottom)}" stroke="${tint(c, 0.35)}" stroke-width="1.2" stroke-dasharray="5 4"/>`,
          `<rect x="${num(cx - w / 2)}" y="${num(devTop)}" width="${num(w)}" height="${devH}" rx="4" fill="#ffffff" stroke="${c}" stroke-width="1.5"${dash}/>`,
          text(cx, devTop + 16, ellipsize(name, Math.floor((w - 8) / (FONT * 0.602))), {
            size: FONT,
            anchor: 'middle',
          }),
          '</g>',
        ].join(''),
      );
    }
  }

  const shaft = line().digits(1);
  const cross = symbol(symbolTimes, 90).digits(1);
  const head = (xTip: number, yTip: number, dir: 1 | -1, fill: string) =>
    `<path d="M${num(xTip)},${num(yTip)}L${num(xTip - dir * 9)},${num(yTip - 4)}L${num(xTip - dir * 9)},${num(yTip + 4)}Z" fill="${fill}"/>`;
  // A label centred at `cx`, kept clear of the time column.
  const label = (cx: number, yy: number, content: string, fill: string) => {
    const w = textWidth(content, FONT);
    const left = Math.max(minTextX, cx - w / 2);
    extend(left + w);
    return text(left, yy, content, { size: FONT, fill, halo: true });
  };

  const connector = (via: string | undefined, to: string, yy: number) => {
    if (via === undefined) return '';
    const c = colour(lifelines.get(via)!.ns);
    return `<path class="via" data-via="${esc(who(via))}" d="${shaft([
      [lx(via), yy],
      [lx(to), yy],
    ])}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="1 3" stroke-linecap="round"/><circle cx="${num(lx(via))}" cy="${num(yy)}" r="2.5" fill="${c}"/>`;
  };

  rows.forEach((r, i) => {
    const ry = y(i)!;
    fore.push(text(MARGIN + timeW, ry + 4, times[i]!, { size: SMALL, anchor: 'end', fill: '#555555' }));
    const ay = ry + 6;
    if (r.kind === 'arrow') {
      const c = colour(lifelines.get(r.from)!.ns);
      const x1 = lx(r.from);
      const x2 = lx(r.to);
      const parts = [
        `<g class="frame" data-from="${esc(who(r.from))}" data-to="${esc(who(r.to))}">`,
        `<title>${esc(r.full)}</title>`,
        connector(r.via, r.from, ay),
      ];
      if (r.from === r.to) {
        parts.push(
          `<path d="M${num(x1)},${num(ay - 8)}h28v12h-26" fill="none" stroke="${c}" stroke-width="1.5"/>`,
          head(x1 + 1, ay + 4, -1, c),
          text(x1 + 34, ay - 2, r.label, { size: FONT, fill: '#222222', halo: true }),
        );
        extend(x1 + 34 + textWidth(r.label, FONT));
      } else {
        const dir = x2 > x1 ? 1 : -1;
        parts.push(
          `<path d="${shaft([
            [x1, ay],
            [x2 - dir * 8, ay],
          ])}" fill="none" stroke="${c}" stroke-width="1.5"/>`,
          head(x2, ay, dir, c),
          label((x1 + x2) / 2, ay - 8, r.label, '#222222'),
        );
      }
      parts.push('</g>');
      fore.push(parts.join(''));
    } else if (r.kind === 'lost' || r.kind === 'found') {
      const cx = lx(r.at);
      const c = colour(lifelines.get(r.at)!.ns);
      const x1 = r.kind === 'lost' ? cx : cx - 56;
      const x2 = r.kind === 'lost' ? cx + 56 : cx;
      const dotX = r.kind === 'lost' ? x2 : x1;
      const tip = r.kind === 'lost' ? x2 - 5 : x2;
      fore.push(
        [
          `<g class="${r.kind}" data-at="${esc(who(r.at))}">`,
          `<title>${esc(r.full)}</title>`,
          r.kind === 'lost' ? connector(r.via, r.at, ay) : '',
          `<path d="${shaft([
            [x1, ay],
            [tip - 8, ay],
          ])}" fill="none" stroke="${c}" stroke-width="1.5"/>`,
          head(tip, ay, 1, c),
          `<circle cx="${num(dotX)}" cy="${num(ay)}" r="4" fill="${c}"/>`,
          label(x1 + 4 + textWidth(r.label, FONT) / 2, ay - 8, r.label, '#222222'),
          '</g>',
        ].join(''),
      );
    } else if (r.kind === 'drop') {
      const cx = lx(r.at);
      const msg = `${r.reason}: ${r.detail}`;
      const shown = ellipsize(msg, maxLabel + 10);
      dropBands.push(ry - ROW_H / 2 + 4);
      fore.push(
        [
          `<g class="drop" data-at="${esc(who(r.at))}" data-reason="${esc(r.reason)}">`,
          `<title>${esc(msg)}</title>`,
          `<path transform="translate(${num(cx)},${num(ay - 2)})" d="${cross()}" fill="none" stroke="${DROP_COLOUR}" stroke-width="3" stroke-linecap="round"/>`,
          text(cx + 12, ay + 2, shown, { size: FONT, fill: DROP_COLOUR, weight: 'bold', halo: true }),
          '</g>',
        ].join(''),
      );
      extend(cx + 12 + textWidth(shown, FONT));
    } else {
      const ls = byNs.get(r.ns)!;
      const c = colour(r.ns);
      const cx = (lx(ls[0]!.key) + lx(ls[ls.length - 1]!.key)) / 2;
      const w = textWidth(r.text, SMALL) + 14;
      const left = Math.max(minTextX, cx - w / 2);
      extend(left + w);
      fore.push(
        [
          `<g class="note" data-ns="${esc(r.ns)}">`,
          `<rect x="${num(left)}" y="${num(ay - 13)}" width="${num(w)}" height="18" rx="2" fill="#fff8d0" stroke="${c}"/>`,
          text(left + 7, ay, r.text, { size: SMALL, fill: '#333333' }),
          '</g>',
        ].join(''),
      );
    }
  });

  const width = maxX + MARGIN;
  const height = rowsBottom + 8 + MARGIN;
  const body: string[] = [];
  if (opts.title !== undefined) {
    body.push(text(MARGIN, MARGIN + 16, opts.title, { size: FONT + 3, weight: 'bold', fill: '#222222' }));
  }
  body.push(text(MARGIN + timeW, headTop + 16, 'time (s)', { size: SMALL, anchor: 'end', fill: '#555555' }));
  body.push(...back);
  for (const by of dropBands) {
    body.push(
      `<rect x="${num(MARGIN)}" y="${num(by)}" width="${num(width - 2 * MARGIN)}" height="${num(ROW_H - 6)}" fill="${DROP_COLOUR}" fill-opacity="0.1"/>`,
    );
  }
  body.push(...fore);
  return svgDocument(width, height, body, opts.title);
}

function noteText(e: TraceEventOf<'sock'>, max: number): string {
  return ellipsize(`${e.proto} ${e.action}: ${e.detail}`, max);
}
