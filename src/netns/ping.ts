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
  private answered = new Set<number>();
  private sent = 0;
  private sentAt = new Map<number, Nanos>();
  private firstReply: { from: Ipv4; ttl: number } | null = null;
  private firstError: { from: Ipv4; ttl: number; type: number; code: number } | null = null;
  private readonly count: number;

  constructor(
    private readonly ns: NetNs,
    private readonly dst: Ipv4,
    private readonly o: PingOptions,
  ) {
    this.count = o.count ?? 1;
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
    for (let i = 16; i < size; i++) skb.buf[d + i] = (0x10 + i - 16) & 0xff;
    emitIcmpHeader(skb.buf, skb.th, ICMP_ECHO, 0, ((this.id << 16) | seq) >>> 0, ICMP_HLEN + size);
    this.sentAt.set(seq, now);
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
    if (this.probe.done || !this.sentAt.has(seq)) {
      dropSkb(this.ns, skb, 'NO_SOCKET', `echo reply seq ${seq} not awaited`);
      return;
    }
    const rtt = (this.ns.kernel.now - this.sentAt.get(seq)!) / 1e6;
    const dup = this.answered.has(seq);
    if (this.count > 1000) this.sentAt.delete(seq); // long runs: keep memory flat (no DUP detection for them)
    this.answered.add(seq);
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
    if (this.answered.size === this.count) this.finish();
  }

  error(from: Ipv4, ttl: number, type: number, code: number, rest: number, seq: number): void {
    if (this.probe.done) return;
    this.answered.add(seq);
    this.probe.line(`From ${Probe.ip(from)} icmp_seq=${seq} ${pingErrorText(type, code, rest & 0xffff)}`);
    if (!this.firstError) this.firstError = { from, ttl, type, code };
    if (this.answered.size === this.count) this.finish();
  }

  private finish(): void {
    if (this.probe.done) return;
    this.ns.sockets.ping.delete(this.id);
    const received = [...this.answered].length;
    this.probe.line(`${this.sent} packets transmitted, ${this.firstReply ? received : 0} received`);
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

function writeLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = (v >>> 16) & 255;
  b[o + 3] = (v >>> 24) & 255;
}

export function ping(ns: NetNs, dst: Ipv4, o: PingOptions = {}): Probe {
  return new PingClient(ns, dst, o).start();
}
