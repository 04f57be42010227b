// Packet flows through a node running the kube-proxy model, with podwire's real stack: an iptables-restore'd
// ruleset in the node's namespace, conntrack and NAT, routing, forwarding and local delivery. The node has the
// addresses upstream's NewFakeProxier assumes (192.168.0.2, 192.168.1.2 and 192.168.99.11 on eth0; pods in
// 10.0.0.0/8 behind cni0) and both devices record what they transmit. A packet from a pod arrives on cni0, one
// from elsewhere on eth0, one from a node address or 127.0.0.1 is sent by the node itself. The outcome is read from
// what leaves the node (destination after DNAT, source rewritten by MASQUERADE) and from the netfilter trace
// (REJECT, DROP, ACCEPT by KUBE-NODEPORTS), the verdict names upstream's packet tracer prints.

import { expect } from 'vitest';
import { netifReceive } from '../../src/netns/dev.js';
import { Dummy } from '../../src/netns/dummy.js';
import { addAddr, isLocalAddr } from '../../src/netns/ifaddr.js';
import { ipLocalOut } from '../../src/netns/ip_output.js';
import type { Kernel } from '../../src/netns/kernel.js';
import { linkSetUp } from '../../src/netns/link.js';
import type { NetDev } from '../../src/netns/netdev.js';
import type { NetNs } from '../../src/netns/netns.js';
import { ipRouteOutput, routeModify } from '../../src/netns/route.js';
import { Skb } from '../../src/netns/skb.js';
import type { Proxier, ProxierOptions } from '../../src/proxy/proxier.js';
import { formatIpv4, parseIpv4, readU16 } from '../../src/wire/addr.js';
import { emitEth } from '../../src/wire/ethernet.js';
import { emitIpv4Header } from '../../src/wire/ipv4.js';
import { emitTcpHeader, TCP_SYN } from '../../src/wire/tcp.js';
import { emitUdpHeader } from '../../src/wire/udp.js';
import { fakeProxier, TEST_EXTERNAL_IP, TEST_NODE_IP, TEST_NODE_IP_ALT } from './helpers.js';

/** A device that keeps every frame it is asked to send. */
class Sink extends Dummy {
  readonly frames: Uint8Array[] = [];
  override xmit(skb: Skb): void {
    this.frames.push(skb.buf.slice(skb.head, skb.end));
  }
}

const ip = (s: string): number => parseIpv4(s)!;

export interface Flow {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** Upstream's expected output: endpoints joined with ", ", or DROP/REJECT/ACCEPT, or "" for no match. */
  output: string;
  masq?: boolean;
}

export interface FlowResult {
  /** `ip:port` the packet was DNATed to, when it was. */
  dnat: string | null;
  masq: boolean;
  verdict: '' | 'ACCEPT' | 'DROP' | 'REJECT';
}

const PROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const;

export class FlowNode {
  readonly k: Kernel;
  readonly ns: NetNs;
  readonly proxier: Proxier;
  readonly eth0: Sink;
  readonly cni0: Sink;
  private nextPort = 20000;
  private nextId = 1;

  constructor(opts: Partial<ProxierOptions> = {}, seed = 1) {
    const f = fakeProxier({ interfaceAddrs: undefined, ...opts }, seed);
    this.k = f.k;
    this.ns = f.ns;
    this.proxier = f.proxier;
    const ns = this.ns;
    const mk = (name: string): Sink => {
      const d = new Sink(ns, name, ns.allocIfindex(), ns.kernel.rng.mac(), 1500);
      ns.registerDev(d);
      linkSetUp(d);
      return d;
    };
    linkSetUp(ns.lo);
    if (!ns.addrs.some((a) => a.dev === ns.lo)) addAddr(ns, ns.lo, ip('127.0.0.1'), 8);
    this.eth0 = mk('eth0');
    this.cni0 = mk('cni0');
    for (const a of [TEST_NODE_IP, TEST_NODE_IP_ALT, TEST_EXTERNAL_IP]) addAddr(ns, this.eth0, ip(a), 24);
    addAddr(ns, this.cni0, ip('10.0.0.1'), 8);
    routeModify(ns, {
      op: 'add',
      type: 'unicast',
      dst: 0,
      len: 0,
      gw: ip('192.168.0.1'),
      dev: this.eth0,
      metric: null,
      prefsrc: null,
      table: 254,
      proto: null,
      scope: null,
      onlink: false,
      mtu: null,
      advmss: null,
    });
    ns.sysctl.set('net.ipv4.ip_forward', '1');
    this.k.tracer.tracing = true;
  }

  sync(): void {
    const r = this.proxier.syncProxyRules();
    if (r.error) throw r.error;
  }

  private packet(src: number, dst: number, proto: number, sport: number, dport: number): Skb {
    const l4 = proto === 6 ? 20 : proto === 17 ? 8 : 12;
    const skb = Skb.alloc(this.k.nextPktId(), 14 + 20 + l4);
    const nh = skb.head + 14;
    skb.nh = nh;
    skb.th = nh + 20;
    emitIpv4Header(skb.buf, nh, {
      tos: 0,
      totalLength: 20 + l4,
      id: this.nextId++ & 0xffff,
      df: true,
      mf: false,
      fragOffset: 0,
      ttl: 64,
      protocol: proto,
      src,
      dst,
      options: new Uint8Array(0),
    });
    if (proto === 6)
      emitTcpHeader(
        skb.buf,
        skb.th,
        { srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags: TCP_SYN, window: 64240, options: {} },
        0,
        src,
        dst,
      );
    else if (proto === 17) emitUdpHeader(skb.buf, skb.th, sport, dport, 8, src, dst);
    else {
      skb.buf[skb.th] = sport >> 8;
      skb.buf[skb.th + 1] = sport & 255;
      skb.buf[skb.th + 2] = dport >> 8;
      skb.buf[skb.th + 3] = dport & 255;
    }
    return skb;
  }

  /** One new connection's first packet. */
  send(f: Omit<Flow, 'name' | 'output'>, sport = this.nextPort++): FlowResult {
    const ns = this.ns;
    const proto = PROTO[f.protocol ?? 'TCP'];
    const src = ip(f.sourceIP);
    const dst = ip(f.destIP);
    this.k.tracer.events.length = 0;
    this.eth0.frames.length = 0;
    this.cni0.frames.length = 0;
    const skb = this.packet(src, dst, proto, sport, f.destPort);
    const ipId = readU16(skb.buf, skb.nh + 4);
    if (isLocalAddr(ns, src) || src >>> 24 === 127) {
      const rt = ipRouteOutput(ns, dst);
      if (typeof rt === 'string') throw new Error(`no route to ${f.destIP}: ${rt}`);
      skb.head = skb.nh;
      ipLocalOut(ns, skb, rt);
    } else {
      const dev: NetDev = src >>> 24 === 10 ? this.cni0 : this.eth0;
      emitEth(skb.buf, skb.head, { dst: dev.mac, src: 0x020000000099, ethertype: 0x0800 });
      netifReceive(dev, skb, null);
    }
    this.k.run(this.k.now + 1_000_000);
    let dnat: string | null = null;
    let masq = false;
    for (const frame of [...this.cni0.frames, ...this.eth0.frames]) {
      const nh = 14;
      if (readU16(frame, nh + 4) !== ipId || frame[nh + 9] !== proto) continue;
      const fsrc = readU32(frame, nh + 12);
      const fdst = readU32(frame, nh + 16);
      const fdport = readU16(frame, nh + 22);
      if (fdst !== dst || fdport !== f.destPort) dnat = `${formatIpv4(fdst)}:${fdport}`;
      masq = fsrc !== src;
    }
    let verdict: FlowResult['verdict'] = '';
    for (const e of this.k.tracer.events) {
      if (e.type !== 'nf' || e.pkt !== skb.id) continue;
      const ev = e as unknown as { table: string; chain: string; rule?: string; verdict: string };
      if (ev.verdict === 'DROP') verdict = ev.rule?.includes('-j REJECT') ? 'REJECT' : 'DROP';
      else if (ev.verdict === 'ACCEPT' && ev.table === 'filter' && ev.chain === 'KUBE-NODEPORTS') verdict = 'ACCEPT';
    }
    return { dnat, masq, verdict };
  }
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export interface FlowSummary {
  output: string;
  masq: boolean;
  /** How often each endpoint was chosen. */
  counts: Map<string, number>;
}

/** Runs `runs` new connections of the flow and summarises them the way upstream's tracer reports one. */
export function runFlow(node: FlowNode, f: Flow, runs: number): FlowSummary {
  const counts = new Map<string, number>();
  const verdicts = new Set<string>();
  const masqs = new Set<boolean>();
  for (let i = 0; i < runs; i++) {
    const r = node.send(f);
    if (r.verdict !== '') verdicts.add(r.verdict);
    if (r.dnat !== null) {
      counts.set(r.dnat, (counts.get(r.dnat) ?? 0) + 1);
      masqs.add(r.masq);
    }
  }
  const endpoints = [...counts.keys()].sort((a, b) => (parseEp(a) < parseEp(b) ? -1 : 1));
  const parts = [...endpoints, ...verdicts];
  return { output: parts.join(', '), masq: masqs.has(true), counts };
}

function parseEp(s: string): number {
  const [a, p] = s.split(':');
  return ip(a!) * 65536 + Number(p);
}

/** Upstream's runPacketFlowTests, through the real engine: each case `runs` times with fresh connections. */
export function expectFlows(node: FlowNode, flows: readonly Flow[], runs = 40): void {
  for (const f of flows) {
    const s = runFlow(node, f, runs);
    expect({ name: f.name, output: s.output, masq: s.masq }).toEqual({
      name: f.name,
      output: f.output,
      masq: f.masq ?? false,
    });
  }
}
