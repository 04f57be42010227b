// Table-driven engine cases: a topology built from ip/bridge/sysctl command lines, one client action (ping, TCP
// connect or UDP request), and the behaviour expected of the emulated kernel — the client's outcome, the drops and
// ICMP errors in the trace, the devices the packets crossed, and the frames on the wire (an in-memory capture).

import { expect, it } from 'vitest';
import type { Kernel } from '../../src/index.js';
import { ping, runUntilDone, tcpConnect, topology, UdpClient } from '../../src/index.js';
import type { Probe, ProbeResult } from '../../src/netns/probe.js';
import type { Nanos } from '../../src/sim/events.js';
import type { DropReason, TraceEvent } from '../../src/trace/events.js';
import type { CaptureIface, CaptureSink } from '../../src/trace/recorder.js';
import { formatIpv4, type Ipv4, parseIpv4, readMac, readU16 } from '../../src/wire/addr.js';
import { parseArp } from '../../src/wire/arp.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP } from '../../src/wire/ethernet.js';
import { type IcmpRepr, parseIcmp } from '../../src/wire/icmp.js';
import { type Ipv4Repr, parseIpv4Header } from '../../src/wire/ipv4.js';
import { parseTcp, type TcpRepr } from '../../src/wire/tcp.js';

export type Action =
  | {
      ping: {
        from: string;
        to: string;
        count?: number;
        ttl?: number;
        size?: number;
        df?: boolean;
        src?: string;
        intervalNs?: Nanos;
        waitNs?: Nanos;
      };
    }
  | { tcp: { from: string; to: string; port: number; payload?: string; src?: string; waitNs?: Nanos } }
  | { udp: { from: string; to: string; port: number; payload?: string; waitNs?: Nanos } };

export interface Expect {
  result: ProbeResult;
  replyFrom?: string;
  replyTtl?: number;
  icmp?: string;
  /** Each must match some output line of the client. */
  lines?: (string | RegExp)[];
  /** Each must be seen in the trace (optionally in a namespace / on a device). */
  drops?: { reason: DropReason; ns?: string; dev?: string }[];
  /** None of these reasons may appear. */
  noDrops?: DropReason[];
  /** `ns:dev` pairs some packet of the action crossed, and pairs none crossed. */
  via?: string[];
  notVia?: string[];
  /** ICMP errors the stacks generated (`ns` and the kind as the trace names it); `[]` means none at all. */
  icmpSent?: { ns: string; kind: string; to?: string }[];
}

export interface Listen {
  ns: string;
  proto: 'tcp' | 'udp';
  port: number;
  reply: string;
}

export interface Case {
  name: string;
  setup: readonly string[];
  listen?: Listen[];
  seed?: number;
  /** Runs on the built kernel before the action (advance time, an earlier exchange, …). */
  before?: (k: Kernel) => void;
  action: Action;
  expect: Expect;
  /** Further assertions on the run. */
  check?: (r: CaseRun) => void;
}

/** A frame seen on a device during the action, as tcpdump on that device would have captured it. */
export interface Frame {
  t: Nanos;
  ns: string;
  dev: string;
  dir: 'rx' | 'tx';
  data: Uint8Array;
}

export interface CaseRun {
  k: Kernel;
  probe: Probe;
  /** Trace events of the action only. */
  events: TraceEvent[];
  frames: Frame[];
  /** Virtual time when the action started. */
  t0: Nanos;
}

const enc = new TextEncoder();

export function ip(s: string): Ipv4 {
  const a = parseIpv4(s);
  if (a === null) throw new Error(`bad IPv4 address ${s}`);
  return a;
}

class MemoryCapture implements CaptureSink {
  readonly frames: Frame[] = [];
  private ifaces = new Map<number, CaptureIface>();
  addInterface(i: CaptureIface): void {
    this.ifaces.set(i.id, i);
  }
  frame(id: number, t: Nanos, data: Uint8Array, dir: 'rx' | 'tx'): void {
    const i = this.ifaces.get(id)!;
    this.frames.push({ t, ns: i.ns, dev: i.dev, dir, data: data.slice() });
  }
  close(): void {}
}

export function build(c: Pick<Case, 'setup' | 'listen' | 'seed'>): Kernel {
  const k = topology(c.setup, { seed: c.seed ?? 1 });
  for (const l of c.listen ?? []) k.netns(l.ns).sockets.listen(l.proto, l.port, enc.encode(l.reply));
  return k;
}

/** Starts the action's client on `k` (without running time). */
export function start(k: Kernel, a: Action): Probe {
  if ('ping' in a) {
    const p = a.ping;
    return ping(k.netns(p.from), ip(p.to), {
      waitNs: p.waitNs ?? 5e9,
      ...(p.count !== undefined ? { count: p.count } : {}),
      ...(p.ttl !== undefined ? { ttl: p.ttl } : {}),
      ...(p.size !== undefined ? { size: p.size } : {}),
      ...(p.df !== undefined ? { df: p.df } : {}),
      ...(p.src !== undefined ? { src: ip(p.src) } : {}),
      ...(p.intervalNs !== undefined ? { intervalNs: p.intervalNs } : {}),
    });
  }
  if ('tcp' in a) {
    const t = a.tcp;
    return tcpConnect(
      k.netns(t.from),
      ip(t.to),
      t.port,
      enc.encode(t.payload ?? ''),
      t.src !== undefined ? ip(t.src) : null,
      t.waitNs ?? 5e9,
    );
  }
  const u = a.udp;
  return new UdpClient(k.netns(u.from), ip(u.to), u.port, enc.encode(u.payload ?? ''), null, u.waitNs ?? 5e9).start();
}

/** Runs one action on an existing kernel, recording its trace events and frames. */
export function act(k: Kernel, a: Action): CaseRun {
  const cap = new MemoryCapture();
  k.tracer.addSink(cap);
  const from = k.tracer.events.length;
  const t0 = k.now;
  const probe = runUntilDone(k, start(k, a));
  k.tracer.closeSinks();
  return { k, probe, events: k.tracer.events.slice(from), frames: cap.frames, t0 };
}

export function runCase(c: Case): CaseRun {
  const k = build(c);
  c.before?.(k);
  return act(k, c.action);
}

function crossed(r: CaseRun, hop: string): boolean {
  const [ns, dev] = hop.split(':');
  return r.events.some((e) => e.type === 'dev' && e.ns === ns && e.dev === dev);
}

export function dropsOf(r: CaseRun, reason?: DropReason): Extract<TraceEvent, { type: 'drop' }>[] {
  return r.events.filter(
    (e): e is Extract<TraceEvent, { type: 'drop' }> => e.type === 'drop' && (!reason || e.reason === reason),
  );
}

export function icmpSentOf(r: CaseRun): Extract<TraceEvent, { type: 'icmp' }>[] {
  return r.events.filter((e): e is Extract<TraceEvent, { type: 'icmp' }> => e.type === 'icmp');
}

/** Checks an expectation, naming what differs; the outcome lines are shown on failure. */
export function verify(r: CaseRun, e: Expect): void {
  const o = r.probe.outcome;
  const ctx = `client output:\n  ${o.lines.join('\n  ')}\ndrops: ${dropsOf(r)
    .map((d) => `${d.ns}:${d.reason}`)
    .join(', ')}`;
  expect(o.result, ctx).toBe(e.result);
  if (e.replyFrom !== undefined) expect(o.replyFrom, ctx).toBe(e.replyFrom);
  if (e.replyTtl !== undefined) expect(o.replyTtl, ctx).toBe(e.replyTtl);
  if (e.icmp !== undefined) expect(o.icmp, ctx).toBe(e.icmp);
  for (const l of e.lines ?? [])
    expect(
      o.lines.some((x) => (typeof l === 'string' ? x === l : l.test(x))),
      `no line ${String(l)}\n${ctx}`,
    ).toBe(true);
  for (const d of e.drops ?? [])
    expect(
      dropsOf(r, d.reason).some((x) => (!d.ns || x.ns === d.ns) && (!d.dev || x.dev === d.dev)),
      `expected a ${d.reason} drop${d.ns ? ` in ${d.ns}` : ''}${d.dev ? ` on ${d.dev}` : ''}\n${ctx}`,
    ).toBe(true);
  for (const reason of e.noDrops ?? []) expect(dropsOf(r, reason), `unexpected ${reason}\n${ctx}`).toEqual([]);
  for (const hop of e.via ?? []) expect(crossed(r, hop), `expected packets on ${hop}\n${ctx}`).toBe(true);
  for (const hop of e.notVia ?? []) expect(crossed(r, hop), `expected no packet on ${hop}\n${ctx}`).toBe(false);
  if (e.icmpSent !== undefined) {
    const sent = icmpSentOf(r).map((x) => ({ ns: x.ns, kind: x.kind, to: x.to }));
    if (e.icmpSent.length === 0) expect(sent).toEqual([]);
    for (const want of e.icmpSent)
      expect(
        sent.some((s) => s.ns === want.ns && s.kind === want.kind && (!want.to || s.to === want.to)),
        `expected ICMP ${want.kind} from ${want.ns}; sent: ${JSON.stringify(sent)}`,
      ).toBe(true);
  }
}

/** One `it` per case. */
export function cases(list: readonly Case[]): void {
  for (const c of list)
    it(c.name, () => {
      const r = runCase(c);
      verify(r, c.expect);
      c.check?.(r);
    });
}

// ---- reading frames ----

export interface IpFrame {
  frame: Frame;
  ip: Ipv4Repr;
  /** Offset of the IPv4 header in frame.data. */
  nh: number;
}

export function ipFrames(
  r: Pick<CaseRun, 'frames'>,
  where?: { ns?: string; dev?: string; dir?: 'rx' | 'tx' },
): IpFrame[] {
  const out: IpFrame[] = [];
  for (const f of r.frames) {
    if (where?.ns !== undefined && f.ns !== where.ns) continue;
    if (where?.dev !== undefined && f.dev !== where.dev) continue;
    if (where?.dir !== undefined && f.dir !== where.dir) continue;
    if (f.data.length < ETH_HLEN + 20 || readU16(f.data, 12) !== ETH_P_IP) continue;
    out.push({ frame: f, ip: parseIpv4Header(f.data, ETH_HLEN), nh: ETH_HLEN });
  }
  return out;
}

export function icmpOf(f: IpFrame): IcmpRepr {
  const hl = f.ip.headerLength;
  return parseIcmp(f.frame.data, f.nh + hl, f.ip.totalLength - hl);
}

export function tcpOf(f: IpFrame): TcpRepr {
  const hl = f.ip.headerLength;
  return parseTcp(f.frame.data, f.nh + hl, f.ip.totalLength - hl);
}

export interface ArpFrame {
  frame: Frame;
  op: number;
  spa: string;
  tpa: string;
  ethDst: number;
}

export function arpFrames(
  r: Pick<CaseRun, 'frames'>,
  where?: { ns?: string; dev?: string; dir?: 'rx' | 'tx' },
): ArpFrame[] {
  const out: ArpFrame[] = [];
  for (const f of r.frames) {
    if (where?.ns !== undefined && f.ns !== where.ns) continue;
    if (where?.dev !== undefined && f.dev !== where.dev) continue;
    if (where?.dir !== undefined && f.dir !== where.dir) continue;
    if (readU16(f.data, 12) !== ETH_P_ARP) continue;
    const a = parseArp(f.data, ETH_HLEN);
    out.push({ frame: f, op: a.op, spa: formatIpv4(a.spa), tpa: formatIpv4(a.tpa), ethDst: readMac(f.data, 0) });
  }
  return out;
}
