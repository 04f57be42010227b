// A small but real TCP (net/ipv4/tcp_*.c): three-way handshake with the options Linux puts in a SYN (MSS from the
// route's MTU or advmss, SACK permitted, timestamps, window scale 10), one request and one response, and FIN close
// with TIME_WAIT. The initial window is the largest multiple of the MSS under 65535 (64240 for MSS 1460; the
// SYN-ACK uses MSS minus the timestamp option, giving 65160); later segments carry that window scaled by 2^10.
// A segment for no socket is answered with RST as tcp_v4_send_reset does (DF set, IP id 0); a RST or ICMP error
// while connecting ends the connect. Initial sequence numbers, the timestamp offset and the IP id counter come from
// the seeded PRNG, and so does the socket's sk_txhash, which every segment it sends carries as skb->hash (a VXLAN
// device turns it into the outer source port; a RST for no socket has none). Limits: no retransmission of data (only SYN: four times 1 s apart, then doubling), no congestion control, no
// out-of-order queue (segments must arrive in order), no SACK blocks, no keepalive, no urgent data.

import type { Nanos } from '../sim/events.js';
import { formatIpv4, type Ipv4 } from '../wire/addr.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp.js';
import { IPPROTO_TCP, ipDst, ipSrc, ipTotalLen } from '../wire/ipv4.js';
import {
  emitTcpHeader,
  parseTcp,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  type TcpOptions,
  tcpChecksumOk,
  tcpFlagsString,
  tcpOptionsLength,
} from '../wire/tcp.js';
import { dropSkb } from './dev.js';
import { socketTxHash } from './flow_hash.js';
import { allocIpPacket, ipLocalOut, traceRoute } from './ip_output.js';
import type { NetNs } from './netns.js';
import { icmpErrorName, Probe, strerror } from './probe.js';
import { ipRouteOutput } from './route.js';
import type { Skb } from './skb.js';
import { type Listener, tcpKey } from './sockets.js';

export type TcpState =
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'ESTABLISHED'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'CLOSING'
  | 'TIME_WAIT'
  | 'CLOSED';

/**
 * tcp_select_initial_window: the scale that lets tcp_rmem[2] be advertised, ilog2(tcp_rmem[2]) − 15. Recent
 * kernels (the 6.18 reference in tools/kernel-lab/NOTES.md §7) default tcp_rmem[2] to 32 MB, giving 10; kernels
 * with the older 6 MB default send 7.
 */
/** net.ipv4.tcp_syn_linear_timeouts default. */
const SYN_LINEAR_TIMEOUTS = 4;
const WSCALE = 10;
const TIME_WAIT_NS = 60e9;
const text = new TextDecoder();

function seqAdd(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** tcp_select_initial_window with default buffers: the largest multiple of `mss` not above 65535. */
export function initialWindow(mss: number): number {
  return mss >= 65535 ? 65535 : Math.floor(65535 / mss) * mss;
}

/** MSS to advertise for a route: its advmss, else MTU − 40 (dst_metric_advmss). */
function advMss(mtu: number, advmss: number | null): number {
  return advmss ?? mtu - 40;
}

export class TcpSock {
  state: TcpState = 'CLOSED';
  iss: number;
  sndNxt: number;
  sndUna: number;
  irs = 0;
  rcvNxt = 0;
  /** MSS we advertise and the MSS we may send (min of the peer's and ours). */
  advmss = 536;
  sndMss = 536;
  tsOk = false;
  tsOffset: number;
  tsRecent = 0;
  ipId: number;
  /** sk_txhash: random per connection (net_tx_rndhash), set on every segment this socket sends. */
  readonly txhash: number;
  rcvWnd = 0;
  readonly received: Uint8Array[] = [];
  readonly probe: Probe | null;
  private synTimerGen = 0;

  constructor(
    private readonly ns: NetNs,
    readonly laddr: Ipv4,
    readonly lport: number,
    readonly raddr: Ipv4,
    readonly rport: number,
    readonly role: 'client' | 'server',
    /** What this side sends: the client's request or the server's reply. */
    private readonly out: Uint8Array,
    private readonly listener: Listener | null,
  ) {
    const rng = ns.kernel.rng;
    this.iss = rng.u32();
    this.tsOffset = rng.u32();
    this.ipId = rng.int(0, 0xffff);
    this.txhash = socketTxHash(this.iss, this.tsOffset);
    this.sndNxt = this.iss;
    this.sndUna = this.iss;
    this.probe = role === 'client' ? new Probe() : null;
    ns.sockets.tcp.set(tcpKey(laddr, lport, raddr, rport), this);
  }

  get key(): string {
    return tcpKey(this.laddr, this.lport, this.raddr, this.rport);
  }

  private tsval(): number {
    return (Math.floor(this.ns.kernel.now / 1e6) + this.tsOffset) >>> 0;
  }

  private setState(s: TcpState): void {
    const tr = this.ns.kernel.tracer;
    if (tr.tracing && s !== this.state)
      tr.emit(this.ns.name, 0, 'sock', {
        proto: 'tcp',
        action: 'state',
        detail: `${formatIpv4(this.laddr)}:${this.lport} ↔ ${formatIpv4(this.raddr)}:${this.rport} ${this.state} → ${s}`,
      });
    this.state = s;
  }

  /** tcp_transmit_skb: one segment with the given flags and payload. */
  private send(flags: number, payload: Uint8Array = new Uint8Array(0), synOpts?: TcpOptions): void {
    const ns = this.ns;
    const rt = ipRouteOutput(ns, this.raddr, this.laddr);
    if (typeof rt === 'string') {
      this.fail('unreachable', `no route to ${formatIpv4(this.raddr)} (${rt})`);
      return;
    }
    const options: TcpOptions = synOpts ?? (this.tsOk ? { timestamp: [this.tsval(), this.tsRecent] } : {});
    const hlen = 20 + tcpOptionsLength(options);
    const isSynAck = (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
    // ip_build_and_send_pkt sends the SYN-ACK with id 0; a connected socket numbers its packets from inet_id.
    const id = isSynAck ? 0 : this.ipId;
    if (!isSynAck) this.ipId = (this.ipId + 1) & 0xffff;
    const skb = allocIpPacket(
      ns,
      { src: this.laddr, dst: this.raddr, protocol: IPPROTO_TCP, df: true, id },
      hlen + payload.length,
    );
    skb.buf.set(payload, skb.th + hlen);
    skb.hash = this.txhash;
    const window = flags & TCP_SYN ? this.rcvWnd : Math.round(this.rcvWnd / (1 << WSCALE));
    emitTcpHeader(
      skb.buf,
      skb.th,
      {
        srcPort: this.lport,
        dstPort: this.rport,
        seq: this.sndNxt,
        ack: flags & TCP_ACK ? this.rcvNxt : 0,
        flags,
        window: Math.min(window, 65535),
        options,
      },
      payload.length,
      this.laddr,
      this.raddr,
    );
    this.sndNxt = seqAdd(this.sndNxt, payload.length + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0));
    const tr = ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'sock', {
        proto: 'tcp',
        action: 'send',
        detail: `${tcpFlagsString(flags)} ${formatIpv4(this.laddr)}:${this.lport} > ${formatIpv4(this.raddr)}:${this.rport} len ${payload.length} (${this.state})`,
      });
    traceRoute(ns, skb, this.raddr, rt);
    ipLocalOut(ns, skb, rt);
  }

  private synOptions(): TcpOptions {
    return { mss: this.advmss, sackPerm: true, timestamp: [this.tsval(), this.tsRecent], wscale: WSCALE };
  }

  /** Client side: tcp_v4_connect + tcp_connect, with SYN retransmission until `waitNs`. */
  connect(waitNs: Nanos): Probe {
    const rt = ipRouteOutput(this.ns, this.raddr, this.laddr);
    if (typeof rt === 'string') {
      this.fail('unreachable', `connect: ${strerror(rt)}`);
      return this.probe!;
    }
    this.advmss = advMss(rt.mtu, rt.route.advmss);
    this.rcvWnd = initialWindow(this.advmss);
    this.setState('SYN_SENT');
    this.send(TCP_SYN, undefined, this.synOptions());
    // SYN retransmission: tcp_syn_linear_timeouts (4) retries 1 s apart, then the RTO doubles (2 s, 4 s, …).
    const q = this.ns.kernel.queue;
    const gen = ++this.synTimerGen;
    let retries = 0;
    let rto = 1e9;
    let at = 0;
    const retransmit = () => {
      if (this.state !== 'SYN_SENT' || gen !== this.synTimerGen) return;
      this.sndNxt = this.iss;
      this.send(TCP_SYN, undefined, this.synOptions());
      schedule();
    };
    const schedule = () => {
      if (++retries > SYN_LINEAR_TIMEOUTS) rto *= 2;
      at += rto;
      if (at < waitNs) q.schedule(rto, retransmit);
    };
    schedule();
    q.schedule(waitNs, () => {
      if (this.state === 'SYN_SENT') this.fail('timeout', 'connect: Connection timed out');
      else if (this.state !== 'CLOSED' && this.state !== 'TIME_WAIT')
        this.fail('timeout', `no answer in ${this.state}`);
    });
    return this.probe!;
  }

  /** Server side: a SYN reached a listener (tcp_conn_request). */
  acceptSyn(seq: number, opts: TcpOptions): void {
    const rt = ipRouteOutput(this.ns, this.raddr, this.laddr);
    const mtu = typeof rt === 'string' ? 1500 : rt.mtu;
    this.advmss = advMss(mtu, typeof rt === 'string' ? null : rt.route.advmss);
    this.irs = seq;
    this.rcvNxt = seqAdd(seq, 1);
    this.peerOptions(opts);
    this.rcvWnd = initialWindow(this.advmss - (this.tsOk ? 12 : 0));
    this.setState('SYN_RECV');
    const synack: TcpOptions = { mss: this.advmss };
    if (opts.sackPerm) synack.sackPerm = true;
    if (this.tsOk) synack.timestamp = [this.tsval(), this.tsRecent];
    if (opts.wscale !== undefined) synack.wscale = WSCALE;
    this.send(TCP_SYN | TCP_ACK, undefined, synack);
  }

  private peerOptions(o: TcpOptions): void {
    this.sndMss = Math.min(o.mss ?? 536, this.advmss);
    this.tsOk = o.timestamp !== undefined;
    if (o.timestamp) this.tsRecent = o.timestamp[0];
    if (this.tsOk) this.sndMss -= 12;
  }

  /** Sends `data` in MSS-sized segments, PSH on the last. */
  private sendData(data: Uint8Array): void {
    for (let off = 0; off < data.length; off += this.sndMss) {
      const chunk = data.subarray(off, Math.min(data.length, off + this.sndMss));
      this.send(TCP_ACK | (off + chunk.length >= data.length ? TCP_PSH : 0), chunk);
    }
  }

  /** tcp_rcv_state_process for one in-window segment. */
  segment(skb: Skb, flags: number, seq: number, ack: number, opts: TcpOptions, payload: Uint8Array): void {
    if (opts.timestamp && this.tsOk) this.tsRecent = opts.timestamp[0];
    if (flags & TCP_RST) {
      if (this.state === 'SYN_SENT') {
        if (flags & TCP_ACK && ack === this.sndNxt) {
          this.probe?.line(`connect: Connection refused (RST from ${formatIpv4(this.raddr)})`);
          this.fail('refused', undefined, {
            replyFrom: formatIpv4(ipSrc(skb.buf, skb.nh)),
            replyTtl: skb.buf[skb.nh + 8]!,
          });
        }
        return;
      }
      this.setState('CLOSED');
      this.close();
      this.fail('refused', 'connection reset by peer');
      return;
    }
    switch (this.state) {
      case 'SYN_SENT': {
        if (!(flags & TCP_SYN) || !(flags & TCP_ACK) || ack !== this.sndNxt) {
          if (flags & TCP_ACK && ack !== this.sndNxt) this.rst(ack);
          return;
        }
        this.synTimerGen++;
        this.irs = seq;
        this.rcvNxt = seqAdd(seq, 1);
        this.sndUna = ack;
        this.peerOptions(opts);
        this.replyTtl = skb.buf[skb.nh + 8]!;
        this.replyFrom = ipSrc(skb.buf, skb.nh);
        this.setState('ESTABLISHED');
        this.probe?.line(`connected to ${formatIpv4(this.raddr)}:${this.rport}`);
        this.send(TCP_ACK);
        if (this.out.length) this.sendData(this.out);
        else this.closeActive();
        return;
      }
      case 'SYN_RECV':
        if (!(flags & TCP_ACK) || ack !== this.sndNxt) return;
        this.sndUna = ack;
        this.setState('ESTABLISHED');
        break;
    }
    if (flags & TCP_ACK) this.sndUna = ack;
    if (seq !== this.rcvNxt && (payload.length || flags & TCP_FIN)) {
      this.send(TCP_ACK); // out of order: duplicate ACK
      return;
    }
    if (payload.length) {
      this.received.push(payload.slice());
      this.rcvNxt = seqAdd(this.rcvNxt, payload.length);
    }
    const fin = (flags & TCP_FIN) !== 0;
    if (fin) this.rcvNxt = seqAdd(this.rcvNxt, 1);
    const ourFinAcked = (flags & TCP_ACK) !== 0 && ack === this.sndNxt;
    switch (this.state) {
      case 'ESTABLISHED':
        if (fin) {
          this.setState('CLOSE_WAIT');
          if (this.role === 'server' && this.listener && this.out.length && this.sent === 0) {
            // The peer closed without a request: answer anyway, then close.
            this.send(TCP_ACK);
            this.respond();
          } else this.closePassive();
        } else if (payload.length) {
          // Quick ACK at connection start, then the server's answer and close.
          this.send(TCP_ACK);
          if (this.role === 'server') this.respond();
        }
        return;
      case 'FIN_WAIT1':
        if (fin && ourFinAcked) {
          this.send(TCP_ACK);
          this.enterTimeWait();
        } else if (fin) {
          this.send(TCP_ACK);
          this.setState('CLOSING');
        } else if (ourFinAcked) this.setState('FIN_WAIT2');
        else if (payload.length) this.send(TCP_ACK);
        return;
      case 'FIN_WAIT2':
        if (fin) {
          this.send(TCP_ACK);
          this.enterTimeWait();
        } else if (payload.length) this.send(TCP_ACK);
        return;
      case 'CLOSING':
        if (ourFinAcked) this.enterTimeWait();
        return;
      case 'LAST_ACK':
        if (ourFinAcked) {
          this.setState('CLOSED');
          this.close();
          this.succeed();
        }
        return;
      case 'CLOSE_WAIT':
      case 'TIME_WAIT':
        if (fin) this.send(TCP_ACK);
        return;
    }
  }

  private sent = 0;
  private replyFrom: Ipv4 = 0;
  private replyTtl = 0;

  private respond(): void {
    this.sent++;
    if (this.listener) this.listener.served++;
    const tr = this.ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(this.ns.name, 0, 'sock', {
        proto: 'tcp',
        action: 'respond',
        detail: `server :${this.lport} answers ${this.out.length} bytes and closes`,
      });
    if (this.out.length) this.sendData(this.out);
    this.closeActive();
  }

  /** Application close while ESTABLISHED: FIN, FIN_WAIT1. */
  private closeActive(): void {
    this.send(TCP_FIN | TCP_ACK);
    this.setState(this.state === 'CLOSE_WAIT' ? 'LAST_ACK' : 'FIN_WAIT1');
  }

  /** Application close after the peer's FIN: our FIN acknowledges theirs. */
  private closePassive(): void {
    this.send(TCP_FIN | TCP_ACK);
    this.setState('LAST_ACK');
  }

  private enterTimeWait(): void {
    this.setState('TIME_WAIT');
    if (this.role === 'client') this.succeed();
    const key = this.key;
    this.ns.kernel.queue.schedule(TIME_WAIT_NS, () => {
      if (this.ns.sockets.tcp.get(key) === this) this.ns.sockets.tcp.delete(key);
      this.state = 'CLOSED';
    });
  }

  private close(): void {
    const key = this.key;
    if (this.ns.sockets.tcp.get(key) === this) this.ns.sockets.tcp.delete(key);
  }

  private succeed(): void {
    if (!this.probe || this.probe.done) return;
    let n = 0;
    for (const c of this.received) n += c.length;
    const all = new Uint8Array(n);
    let o = 0;
    for (const c of this.received) {
      all.set(c, o);
      o += c.length;
    }
    this.probe.line(`received ${n} bytes, connection closed`);
    this.probe.finish({
      result: 'reachable',
      replyFrom: formatIpv4(this.replyFrom),
      replyTtl: this.replyTtl,
      replyPayload: text.decode(all),
    });
  }

  private fail(
    result: 'refused' | 'unreachable' | 'timeout',
    line?: string,
    extra: { replyFrom?: string; replyTtl?: number; icmp?: string } = {},
  ): void {
    if (line) this.probe?.line(line);
    if (this.state !== 'TIME_WAIT') {
      this.state = 'CLOSED';
      this.close();
    }
    this.synTimerGen++;
    this.probe?.finish({ result, ...extra });
  }

  /** tcp_v4_err: in SYN_SENT every ICMP error ends the connect (ECONNREFUSED, EHOSTUNREACH, …). */
  icmpError(from: Ipv4, ttl: number, type: number, code: number, _rest: number): void {
    if (this.state !== 'SYN_SENT' && this.state !== 'SYN_RECV') return;
    const name = icmpErrorName(type, code);
    this.fail(
      type === ICMP_DEST_UNREACH && code === ICMP_PORT_UNREACH ? 'refused' : 'unreachable',
      `connect: ${name} from ${formatIpv4(from)}`,
      {
        replyFrom: formatIpv4(from),
        replyTtl: ttl,
        icmp: name,
      },
    );
  }

  private rst(seq: number): void {
    sendReset(this.ns, this.laddr, this.lport, this.raddr, this.rport, seq, 0, TCP_RST);
  }
}

/** tcp_v4_send_reset: DF set and IP id 0 (the per-namespace control socket enforces both). */
function sendReset(
  ns: NetNs,
  src: Ipv4,
  sport: number,
  dst: Ipv4,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
): void {
  const rt = ipRouteOutput(ns, dst, src);
  if (typeof rt === 'string') return;
  const skb = allocIpPacket(ns, { src, dst, protocol: IPPROTO_TCP, df: true, id: 0 }, 20);
  emitTcpHeader(
    skb.buf,
    skb.th,
    { srcPort: sport, dstPort: dport, seq, ack, flags, window: 0, options: {} },
    0,
    src,
    dst,
  );
  const tr = ns.kernel.tracer;
  if (tr.tracing)
    tr.emit(ns.name, skb.id, 'sock', {
      proto: 'tcp',
      action: 'reset',
      detail: `${tcpFlagsString(flags)} to ${formatIpv4(dst)}:${dport}: no socket on ${formatIpv4(src)}:${sport}`,
    });
  traceRoute(ns, skb, dst, rt);
  ipLocalOut(ns, skb, rt);
}

/** tcp_v4_rcv. */
export function tcpV4Rcv(ns: NetNs, skb: Skb, broadcast: boolean): void {
  const b = skb.buf;
  const th = skb.th;
  const src = ipSrc(b, skb.nh);
  const dst = ipDst(b, skb.nh);
  const len = ipTotalLen(b, skb.nh) - (th - skb.nh);
  if (broadcast) {
    dropSkb(ns, skb, 'OTHERHOST', 'TCP to a broadcast address');
    return;
  }
  if (len < 20 || !tcpChecksumOk(b, th, len, src, dst)) {
    dropSkb(ns, skb, 'TCP_INVALID', 'bad TCP checksum or length');
    return;
  }
  let h: ReturnType<typeof parseTcp>;
  try {
    h = parseTcp(b, th, len);
  } catch (e) {
    dropSkb(ns, skb, 'TCP_INVALID', e instanceof Error ? e.message : 'malformed TCP header');
    return;
  }
  const payload = b.subarray(th + h.headerLength, th + len);
  const sock = ns.sockets.tcp.get(tcpKey(dst, h.dstPort, src, h.srcPort));
  const tr = ns.kernel.tracer;
  if (sock) {
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'sock', {
        proto: 'tcp',
        action: 'deliver',
        detail: `${tcpFlagsString(h.flags)} to ${formatIpv4(dst)}:${h.dstPort} (${sock.state})`,
      });
    sock.segment(skb, h.flags, h.seq, h.ack, h.options, payload);
    return;
  }
  const l = ns.sockets.findListener('tcp', dst, h.dstPort);
  if (l && (h.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'sock', {
        proto: 'tcp',
        action: 'accept',
        detail: `SYN to listener :${h.dstPort} from ${formatIpv4(src)}:${h.srcPort}`,
      });
    new TcpSock(ns, dst, h.dstPort, src, h.srcPort, 'server', l.reply, l).acceptSyn(h.seq, h.options);
    return;
  }
  if (h.flags & TCP_RST) {
    dropSkb(ns, skb, 'NO_SOCKET', `RST for no socket ${formatIpv4(dst)}:${h.dstPort}`);
    return;
  }
  if (h.flags & TCP_ACK) sendReset(ns, dst, h.dstPort, src, h.srcPort, h.ack, 0, TCP_RST);
  else {
    const segLen = payload.length + (h.flags & TCP_SYN ? 1 : 0) + (h.flags & TCP_FIN ? 1 : 0);
    sendReset(ns, dst, h.dstPort, src, h.srcPort, 0, seqAdd(h.seq, segLen), TCP_RST | TCP_ACK);
  }
  dropSkb(ns, skb, 'NO_SOCKET', `no TCP socket on ${formatIpv4(dst)}:${h.dstPort}`);
}

/** A client connection for a `connect` step. */
export function tcpConnect(
  ns: NetNs,
  dst: Ipv4,
  port: number,
  payload: Uint8Array,
  src: Ipv4 | null,
  waitNs: Nanos,
): Probe {
  const rt = ipRouteOutput(ns, dst, src);
  if (typeof rt === 'string') {
    const p = new Probe();
    p.line(`connect: ${strerror(rt)}`);
    p.finish({ result: 'unreachable' });
    return p;
  }
  const sport = ns.sockets.ephemeralPort('tcp');
  return new TcpSock(ns, rt.src, sport, dst, port, 'client', payload, null).connect(waitNs);
}
