// The socket layer of one namespace: listening servers (TCP and UDP, answering with a configured payload), client
// sockets created by steps (ping, TCP connect, UDP send), ephemeral port selection from ip_local_port_range with the
// seeded PRNG, and the delivery of ICMP replies and errors to the socket that sent the offending packet (as
// ping_err, tcp_v4_err and udp_err find them from the quoted header). UDP encapsulation sockets (a VXLAN device's
// socket, bound to 0.0.0.0:PORT with an encap_rcv handler) hold their port like any bound socket.

import { formatIpv4, type Ipv4, readU16 } from '../wire/addr.js';
import { ICMP_ECHOREPLY, ICMP_HLEN } from '../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipDst, ipHeaderLen, ipProto, ipSrc } from '../wire/ipv4.js';
import { dropSkb } from './dev.js';
import type { NetNs } from './netns.js';
import type { PingClient } from './ping.js';
import type { Skb } from './skb.js';
import type { TcpSock } from './tcp.js';
import type { UdpClient } from './udp.js';

export interface Listener {
  proto: 'tcp' | 'udp';
  port: number;
  /** 0 = any address. */
  addr: Ipv4;
  reply: Uint8Array;
  /** Requests answered so far. */
  served: number;
}

/** udp_tunnel_sock_cfg.encap_rcv: takes a datagram whose checksum was verified (skb.th at the UDP header). */
export type EncapRcv = (skb: Skb) => void;

export function tcpKey(laddr: Ipv4, lport: number, raddr: Ipv4, rport: number): string {
  return `${laddr}:${lport}>${raddr}:${rport}`;
}

export class SocketTable {
  readonly listeners: Listener[] = [];
  readonly tcp = new Map<string, TcpSock>();
  readonly udpClients = new Map<number, UdpClient>();
  readonly ping = new Map<number, PingClient>();
  /** UDP encapsulation sockets by port (setup_udp_tunnel_sock). */
  readonly udpEncap = new Map<number, EncapRcv>();

  constructor(private readonly ns: NetNs) {}

  /** Binds an encapsulation socket to 0.0.0.0:`port`; false when the port is taken (EADDRINUSE). */
  bindEncap(port: number, rcv: EncapRcv): boolean {
    if (this.udpEncap.has(port) || this.listeners.some((l) => l.proto === 'udp' && l.port === port)) return false;
    this.udpEncap.set(port, rcv);
    return true;
  }

  releaseEncap(port: number, rcv: EncapRcv): void {
    if (this.udpEncap.get(port) === rcv) this.udpEncap.delete(port);
  }

  listen(proto: 'tcp' | 'udp', port: number, reply: Uint8Array, addr: Ipv4 = 0): Listener {
    if (port < 1 || port > 65535) throw new Error(`port ${port} out of range`);
    if (proto === 'udp' && this.udpEncap.has(port))
      throw new Error(`udp port ${port} is already in use in namespace ${this.ns.name} (a VXLAN device's socket)`);
    const clash = this.listeners.find(
      (l) => l.proto === proto && l.port === port && (l.addr === 0 || addr === 0 || l.addr === addr),
    );
    if (clash) throw new Error(`${proto} port ${port} is already in use in namespace ${this.ns.name}`);
    const l: Listener = { proto, port, addr, reply, served: 0 };
    this.listeners.push(l);
    return l;
  }

  findListener(proto: 'tcp' | 'udp', addr: Ipv4, port: number): Listener | undefined {
    let any: Listener | undefined;
    for (const l of this.listeners) {
      if (l.proto !== proto || l.port !== port) continue;
      if (l.addr === addr) return l;
      if (l.addr === 0) any = l;
    }
    return any;
  }

  /** A free local port from ip_local_port_range (random start, then linear probe, as inet_hash_connect). */
  ephemeralPort(proto: 'tcp' | 'udp'): number {
    const [lo, hi] = this.ns.sysctl.ipLocalPortRange;
    const span = hi - lo + 1;
    const start = this.ns.kernel.rng.int(0, span - 1);
    for (let i = 0; i < span; i++) {
      const p = lo + ((start + i) % span);
      if (this.listeners.some((l) => l.proto === proto && l.port === p)) continue;
      if (proto === 'udp' && (this.udpClients.has(p) || this.udpEncap.has(p))) continue;
      if (proto === 'tcp' && [...this.tcp.values()].some((s) => s.lport === p)) continue;
      return p;
    }
    throw new Error(`no free ${proto} port in ${lo}-${hi}`);
  }

  /** ICMP echo replies and errors (icmp_rcv → ping_rcv / icmp_unreach → err handlers). */
  icmpDeliver(skb: Skb, type: number, code: number, rest: number, len: number): void {
    const b = skb.buf;
    const th = skb.th;
    const from = ipSrc(b, skb.nh);
    const ttl = b[skb.nh + 8]!;
    if (type === ICMP_ECHOREPLY) {
      const id = readU16(b, th + 4);
      const sock = this.ping.get(id);
      if (!sock) {
        dropSkb(this.ns, skb, 'NO_SOCKET', `no ping socket with id ${id}`);
        return;
      }
      sock.reply(skb, from, ttl, readU16(b, th + 6), len);
      return;
    }
    // An error: find the socket from the quoted header (our packet: quoted src is us).
    const q = th + ICMP_HLEN;
    if (len < ICMP_HLEN + 20) {
      dropSkb(this.ns, skb, 'IP_INHDR', 'ICMP error quotes too little');
      return;
    }
    const qhl = ipHeaderLen(b, q);
    const qproto = ipProto(b, q);
    const qsrc = ipSrc(b, q);
    const qdst = ipDst(b, q);
    const ql4 = q + qhl;
    const haveL4 = len >= ICMP_HLEN + qhl + 8;
    const tr = this.ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(this.ns.name, skb.id, 'sock', {
        proto: 'icmp',
        action: 'error',
        detail: `ICMP ${type}/${code} from ${formatIpv4(from)} about ${formatIpv4(qsrc)} > ${formatIpv4(qdst)}`,
      });
    if (qproto === IPPROTO_ICMP && haveL4) {
      const sock = this.ping.get(readU16(b, ql4 + 4));
      if (sock) {
        sock.error(from, ttl, type, code, rest, readU16(b, ql4 + 6));
        return;
      }
    } else if (qproto === IPPROTO_TCP && haveL4) {
      const sock = this.tcp.get(tcpKey(qsrc, readU16(b, ql4), qdst, readU16(b, ql4 + 2)));
      if (sock) {
        sock.icmpError(from, ttl, type, code, rest);
        return;
      }
    } else if (qproto === IPPROTO_UDP && haveL4) {
      const sock = this.udpClients.get(readU16(b, ql4));
      if (sock) {
        sock.icmpError(from, ttl, type, code, rest);
        return;
      }
    }
    dropSkb(this.ns, skb, 'NO_SOCKET', 'ICMP error for no socket of ours');
  }
}
