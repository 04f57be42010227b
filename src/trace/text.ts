// Human-readable and machine-readable renderings of a trace. The timeline reads like `tcpdump -n` interleaved with
// the kernel's decisions: seconds with nanosecond digits, the namespace in brackets, then a line per event kind
// (device lines carry the tcpdump-style summary, routes read like `ip route get`, neighbours like `ip neigh`, FDB
// entries like `bridge fdb`). Kinds added by extensions register a formatter; any kind without one prints its own
// fields in sorted key order. JSON Lines keep the base fields first, then the kind's fields in insertion order.
// Both outputs depend only on the events given, so the same run renders byte for byte the same.

import type { Nanos } from '../sim/events.js';
import type { TraceEvent, TraceEventOf, TraceKind } from './events.js';

type Formatter = (e: TraceEvent) => string;

const BASE_KEYS = ['t', 'seq', 'step', 'pkt', 'ns', 'type'] as const;
const BASE_SET: ReadonlySet<string> = new Set(BASE_KEYS);

/** `1.000000002` for 1 s + 2 ns: whole seconds, a dot, nine digits. */
export function formatTime(t: Nanos): string {
  const ns = Math.round(t);
  const sign = ns < 0 ? '-' : '';
  const a = Math.abs(ns);
  const sec = Math.floor(a / 1e9);
  return `${sign}${sec}.${String(a - sec * 1e9).padStart(9, '0')}`;
}

const builtin: {
  [K in 'dev' | 'stage' | 'route' | 'neigh' | 'fdb' | 'sock' | 'icmp' | 'drop']: (e: TraceEventOf<K>) => string;
} = {
  dev: (e) => `${e.dev} ${e.dir}  ${e.summary}`,
  stage: (e) => `${e.stage}${e.dev !== undefined ? ` dev ${e.dev}` : ''}${e.detail ? `: ${e.detail}` : ''}`,
  route: (e) => `route ${e.dst} → ${e.result}`,
  neigh: (e) => `neigh ${e.action} ${e.ip} dev ${e.dev}${e.mac !== undefined ? ` lladdr ${e.mac}` : ''} ${e.state}`,
  fdb: (e) => `fdb ${e.action} ${e.mac}${e.port !== undefined ? ` dev ${e.port}` : ''} master ${e.bridge}`,
  sock: (e) => `sock ${e.proto} ${e.action}: ${e.detail}`,
  icmp: (e) => `icmp ${e.action} ${e.kind} to ${e.to} (${e.reason})`,
  drop: (e) => `DROP ${e.reason}: ${e.detail}${e.dev !== undefined ? ` (dev ${e.dev})` : ''}`,
};

const registered = new Map<string, Formatter>();

/**
 * Teaches the timeline a kind added by an extension. Built-in kinds cannot be replaced; registering the same kind
 * again with a different function is an error, so two extensions cannot silently fight over a kind.
 */
export function registerTextFormatter<K extends TraceKind>(kind: K, fn: (e: TraceEventOf<K>) => string): void;
export function registerTextFormatter(kind: string, fn: (e: TraceEvent) => string): void;
export function registerTextFormatter(kind: string, fn: (e: never) => string): void {
  if (Object.hasOwn(builtin, kind)) throw new Error(`trace kind '${kind}' has a built-in formatter`);
  const f = fn as unknown as Formatter;
  const prev = registered.get(kind);
  if (prev !== undefined && prev !== f) throw new Error(`trace kind '${kind}' already has a formatter`);
  registered.set(kind, f);
}

/** Stable text for a field value: bare when it is a plain token, JSON otherwise, object keys sorted. */
function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return stableJson(v);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function fallback(e: TraceEvent): string {
  const o = e as unknown as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => !BASE_SET.has(k) && o[k] !== undefined)
    .sort();
  return [e.type, ...keys.map((k) => `${k}=${fieldValue(o[k])}`)].join(' ');
}

/** The description part of a timeline line (no time, no namespace). */
export function describeEvent(e: TraceEvent): string {
  const ext = registered.get(e.type);
  if (ext) return ext(e);
  const b = (builtin as Record<string, Formatter | undefined>)[e.type];
  return b ? b(e) : fallback(e);
}

export interface TimelineOptions {
  /** Prefix each line with the scenario step (`#3`; `#-1` for setup). */
  showStep?: boolean;
  /** Prefix each line with the packet id (`p17`). */
  showPkt?: boolean;
}

/** One line per event: time, [namespace] padded to the widest, description. Ends with a newline when non-empty. */
export function renderTimeline(events: readonly TraceEvent[], opts: TimelineOptions = {}): string {
  if (events.length === 0) return '';
  const times = events.map((e) => formatTime(e.t));
  const tw = Math.max(...times.map((s) => s.length));
  const nsw = Math.max(...events.map((e) => e.ns.length)) + 2;
  const stepw = opts.showStep ? Math.max(...events.map((e) => String(e.step).length)) + 1 : 0;
  const pktw = opts.showPkt ? Math.max(...events.map((e) => String(e.pkt).length)) + 1 : 0;
  let out = '';
  events.forEach((e, i) => {
    let line = times[i]!.padStart(tw);
    if (opts.showStep) line += ` ${`#${e.step}`.padEnd(stepw)}`;
    if (opts.showPkt) line += ` ${`p${e.pkt}`.padEnd(pktw)}`;
    line += ` ${`[${e.ns}]`.padEnd(nsw)} ${describeEvent(e)}`;
    out += `${line}\n`;
  });
  return out;
}

/** One JSON object per line: t, seq, step, pkt, ns, type, then the kind's own fields in insertion order. */
export function renderJsonLines(events: readonly TraceEvent[]): string {
  let out = '';
  for (const e of events) {
    const src = e as unknown as Record<string, unknown>;
    const o: Record<string, unknown> = {};
    for (const k of BASE_KEYS) o[k] = src[k];
    for (const k of Object.keys(src)) if (!BASE_SET.has(k)) o[k] = src[k];
    out += `${JSON.stringify(o)}\n`;
  }
  return out;
}
