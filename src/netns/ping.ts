// A ping client as iputils ping on a ping socket: echo requests with a PRNG-chosen identifier, sequence numbers from
// 1, one per second, 56 data bytes by default (a 16-byte timestamp followed by the byte pattern 0x10, 0x11, …),
// TTL from -t or ip_default_ttl, DF set (ping's default path-MTU discovery). Replies and ICMP errors are matched by
// identifier. The run ends when every request is answered or the wait after the last one expires.

import type { Nanos } from '../sim/events.js';
import type { Ipv4 } from '../wire/addr.js';
import { emitIcmpHeader, ICMP_ECHO, ICMP_HLEN } from '../wire/icmp.js';
import { IPPROTO_ICMP } from '../wire/ipv4.js';
import { dropSkb } from './dev.js';
import { allocIpPacket, ipLocalOut, traceRoute } from './ip_output.js';
import type { NetNs } from './netns.js';
import { icmpErrorName, Probe, pingConnectErrorText, pingErrorText } from './probe.js';
import { ipRouteOutput } from './route.js';
import type { Skb } from './skb.js';

export interface PingOptions {
  count?: number;
  ttl?: number;
  /** Data bytes after the ICMP header (ping -s). */
  size?: number;
  src?: Ipv4 | null;
  intervalNs?: Nanos;
  /** How long to wait for answers after the last request (ping -W). */
  waitNs?: Nanos;
  df?: boolean;
}

export class PingClient {
  readonly probe = new Probe();
  readonly id: number;
  /** Per 16-bit sequence number: 0 awaiting, 1 answered by a reply, 2 by an ICMP error. */
  private marks: Uint8Array;
  private replies = 0;
  private errors = 0;
  private sent = 0;
  /** Send time by sequence number (seq is 16 bits on the wire); -1 = not awaited. */
  private sentAt: Float64Array;
  /** Index mask of `marks`/`sentAt`: a power of two ≥ count, at most 65536 (the 16-bit sequence space). */
  private readonly mask: number;
  private firstReply: { from: Ipv4; ttl: number } | null = null;
  private firstError: { from: Ipv4; ttl: number; type: number; code: number } | null = null;
  private readonly count: number;
  /** The bytes after the timestamp, the same in every request. */
  private readonly fill: Uint8Array;

  constructor(
    private readonly ns: NetNs,
    private readonly dst: Ipv4,
    private readonly o: PingOptions,
  ) {
    this.count = o.count ?? 1;
    let size = 16;
    while (size < this.count && size < 65536) size *= 2;
    this.mask = size - 1;
    this.marks = new Uint8Array(size);
    this.sentAt = new Float64Array(size).fill(-1);
    this.fill = pattern(Math.max(0, (o.size ?? 56) - 16));
    let id = ns.kernel.rng.int(1, 0xffff);
    while (ns.sockets.ping.has(id)) id = (id % 0xffff) + 1;
    this.id = id;
    ns.sockets.ping.set(id, this);
  }

  start(): Probe {
    const interval = this.o.intervalNs ?? 1e9;
    const q = this.ns.kernel.queue;
    // One timer at a time: each request schedules the next, as ping's main loop does.
    const next = (seq: number) => {
      if (this.probe.done) return;
      this.send(seq);
      if (seq < this.count) q.schedule(interval, () => next(seq + 1));
      else q.schedule(this.o.waitNs ?? 5e9, () => this.finish());
    };
    q.schedule(0, () => next(1));
    return this.probe;
  }

  private send(seq: number): void {
    const ns = this.ns;
    const size = this.o.size ?? 56;
    const rt = ipRouteOutput(ns, this.dst, this.o.src ?? null);
    this.sent++;
    if (typeof rt === 'string') {
      this.probe.line(pingConnectErrorText(rt));
      this.probe.finish({ result: 'unreachable' });
      return;
    }
    const skb = allocIpPacket(
      ns,
      {
        src: rt.src,
        dst: this.dst,
        protocol: IPPROTO_ICMP,
        ttl: this.o.ttl ?? ns.sysctl.ipDefaultTtl,
        df: this.o.df ?? true,
      },
      ICMP_HLEN + size,
    );
    const d = skb.th + ICMP_HLEN;
    const now = ns.kernel.now;
    if (size >= 16) {
      // struct timeval, little endian, as ping writes it on a 64-bit host.
      const sec = Math.floor(now / 1e9);
      const usec = Math.floor((now % 1e9) / 1e3);
      writeLe32(skb.buf, d, sec);
      writeLe32(skb.buf, d + 8, usec);
    }
    if (size > 16) skb.buf.set(this.fill, d + 16);
    emitIcmpHeader(skb.buf, skb.th, ICMP_ECHO, 0, ((this.id << 16) | (seq & 0xffff)) >>> 0, ICMP_HLEN + size);
    this.sentAt[seq & this.mask] = now;
    this.marks[seq & this.mask] = 0;
    const tr = ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'sock', {
        proto: 'icmp',
        action: 'ping',
        detail: `echo request id ${this.id} seq ${seq}`,
      });
    traceRoute(ns, skb, this.dst, rt);
    ipLocalOut(ns, skb, rt);
  }

  reply(skb: Skb, from: Ipv4, ttl: number, seq: number, len: number): void {
    if (this.probe.done || this.sentAt[seq & this.mask]! < 0) {
      dropSkb(this.ns, skb, 'NO_SOCKET', `echo reply seq ${seq} not awaited`);
      return;
    }
    const rtt = (this.ns.kernel.now - this.sentAt[seq & this.mask]!) / 1e6;
    const dup = this.marks[seq & this.mask] === 1;
    if (!dup) this.replies++;
    this.marks[seq & this.mask] = 1;
    this.probe.line(
      () =>
        `${len} bytes from ${Probe.ip(from)}: icmp_seq=${seq} ttl=${ttl} time=${rtt.toFixed(3)} ms${dup ? ' (DUP!)' : ''}`,
    );
    const tr = this.ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(this.ns.name, skb.id, 'sock', {
        proto: 'icmp',
        action: 'reply',
        detail: `echo reply seq ${seq} from ${Probe.ip(from)}`,
      });
    if (!this.firstReply) this.firstReply = { from, ttl };
    if (this.replies + this.errors === this.count) this.finish();
  }

  error(from: Ipv4, ttl: number, type: number, code: number, rest: number, seq: number): void {
    if (this.probe.done) return;
    if (this.marks[seq & this.mask] === 0) this.errors++;
    this.marks[seq & this.mask] = 2;
    this.probe.line(`From ${Probe.ip(from)} icmp_seq=${seq} ${pingErrorText(type, code, rest & 0xffff)}`);
    if (!this.firstError) this.firstError = { from, ttl, type, code };
    if (this.replies + this.errors === this.count) this.finish();
  }

  private finish(): void {
    if (this.probe.done) return;
    this.ns.sockets.ping.delete(this.id);
    this.probe.line(
      `${this.sent} packets transmitted, ${this.replies} received${this.errors ? `, +${this.errors} errors` : ''}`,
    );
    if (this.firstReply) {
      this.probe.finish({
        result: 'reachable',
        replyFrom: Probe.ip(this.firstReply.from),
        replyTtl: this.firstReply.ttl,
      });
    } else if (this.firstError) {
      const e = this.firstError;
      this.probe.finish({
        result: 'unreachable',
        replyFrom: Probe.ip(e.from),
        replyTtl: e.ttl,
        icmp: icmpErrorName(e.type, e.code),
      });
    } else this.probe.finish({ result: 'timeout' });
  }
}

/** ping's fill pattern after the timestamp: 0x10, 0x11, … */
function pattern(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (0x10 + i) & 0xff;
  return p;
}

function writeLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = (v >>> 16) & 255;
  b[o + 3] = (v >>> 24) & 255;
}

export function ping(ns: NetNs, dst: Ipv4, o: PingOptions = {}): Probe {
  return new PingClient(ns, dst, o).start();
}
