// The VXLAN device (drivers/net/vxlan/vxlan_core.c), as flannel's vxlan backend uses it. Transmit (vxlan_xmit):
// the inner destination MAC is looked up in the device's own FDB (vxlan_fdb.ts; a miss falls back to the all-zeros
// entry, whose remotes each get a copy; without one the frame is dropped as VXLAN_NO_REMOTE and counted in TX
// dropped); the outer VXLAN (flag I, VNI), UDP (source port from the flow hash, see flow_hash.ts; checksum unless
// `noudpcsum`) and IPv4 headers (source `local` or the route's choice, TTL `ttl` or ip_default_ttl for `ttl auto`,
// DF clear, TOS 0 plus the inner ECN bits, id from the namespace's counter) are pushed in the headroom, and the
// packet goes to ip_local_out in the device's namespace, so OUTPUT and POSTROUTING see it as iptunnel_xmit makes
// them; a larger-than-MTU outer packet is fragmented there like any non-DF packet. A route back into the device
// itself is refused (circular route), and a local remote is delivered straight to the VXLAN device with that VNI
// (encap bypass). Receive (vxlan_rcv): an up device owns UDP port `dstport` of its namespace (one socket per port,
// shared by VNI); the header must carry flag I (else VXLAN_INVALID_HDR), the VNI must belong to an up device (else a
// silent VXLAN_VNI_NOT_FOUND drop), reserved bits must be zero; a frame from the device's own MAC is a loop
// (LOCAL_MAC); with `learning` the source MAC is learnt against the outer source address (vxlan_snoop); then the
// inner frame is received on the device. Byte counters count the inner IP packet, as the kernel's tstats do.
// Creation follows vxlan_newlink: without `dev` the MTU is 1500, with it the lower device's MTU minus 50 (an
// explicit MTU is clamped to that), the same VNI and port may not exist twice in a namespace, and the device goes
// away with its lower device. The device keeps the namespace it was created in for its socket and routing (vxlan->net).
// Limits: IPv4 only; no `remote`/`group` (default destination, multicast), `proxy`, `rsc`, `l2miss`/`l3miss`, GBP,
// GPE, external (metadata) mode, VNI filtering, `tos`/`df`/`flowlabel` options or ECN decapsulation; the PMTU of
// the inner route is not updated from the underlay (skb_tunnel_check_pmtu); error counters are not kept.

import { registerTextFormatter } from '../trace/text.js';
import type { DevKind, TopoDevice } from '../trace/topology.js';
import { formatIpv4, formatMac, type Ipv4, isMulticastMac, type Mac, readMac, readU16, readU32 } from '../wire/addr.js';
import { describeFrame } from '../wire/describe.js';
import { ETH_HLEN, ETH_P_IP } from '../wire/ethernet.js';
import { emitIpv4BaseHeader, IPPROTO_UDP, IPV4_HLEN, ipDst, ipSrc } from '../wire/ipv4.js';
import { emitUdpHeader, UDP_HLEN } from '../wire/udp.js';
import { emitVxlan, VXLAN_DEFAULT_PORT_LINUX, VXLAN_FLAG_I, VXLAN_HLEN } from '../wire/vxlan.js';
import { dropSkb, netifReceive, netifReceiveLater } from './dev.js';
import { NetlinkError } from './errors.js';
import { udpFlowSrcPort } from './flow_hash.js';
import { isLocalAddr } from './ifaddr.js';
import { ipLocalOut, ipSelectIdent, traceRoute } from './ip_output.js';
import type { Kernel } from './kernel.js';
import { checkIfname, linkSetDown, linkSetNomaster } from './link.js';
import {
  type FdbEntryState,
  type NdoFdbAddRequest,
  type NdoFdbDelRequest,
  type NdoFdbDumpEntry,
  NetDev,
  TSO_LEGACY_MAX_SIZE,
} from './netdev.js';
import type { NetNs } from './netns.js';
import { ipRouteOutput } from './route.js';
import type { Skb } from './skb.js';
import type { EncapRcv } from './sockets.js';
import { VxlanFdb, type VxlanFdbEntry, type VxlanRdst } from './vxlan_fdb.js';

/** What encapsulation adds in front of the inner Ethernet frame: outer IPv4, UDP and VXLAN headers. */
export const VXLAN_HEADROOM = IPV4_HLEN + UDP_HLEN + VXLAN_HLEN + ETH_HLEN;
/** VXLAN_N_VID: VNIs are 24 bits. */
export const VXLAN_N_VID = 1 << 24;
const DEFAULT_AGEING_S = 300;

declare module '../trace/events.js' {
  interface TraceKinds {
    /** A VXLAN device encapsulated a frame (`local`/`sport` are the outer source) or decapsulated one. */
    vxlan: {
      action: 'encap' | 'decap';
      dev: string;
      vni: number;
      local: string;
      remote: string;
      sport: number;
      dport: number;
      /** The inner frame, as tcpdump describes it. */
      inner: string;
    };
  }
}

registerTextFormatter('vxlan', (e) =>
  e.action === 'encap'
    ? `vxlan encap dev ${e.dev} vni ${e.vni}: ${e.local}.${e.sport} > ${e.remote}.${e.dport}: ${e.inner}`
    : `vxlan decap dev ${e.dev} vni ${e.vni}: ${e.remote}.${e.sport} > ${e.local}.${e.dport}: ${e.inner}`,
);

/** `ip link add NAME type vxlan …` as the kernel receives it. */
export interface VxlanSpec {
  name: string;
  vni: number;
  local?: Ipv4;
  /** Lower (underlay) device: sets the MTU and is printed as `dev`. */
  dev?: string;
  /** Default 8472 (0 also means the default, as in the kernel). */
  dstport?: number;
  /** Default true. */
  learning?: boolean;
  mac?: Mac;
  /** Default 1500, or the lower device's MTU − 50 with `dev`. */
  mtu?: number;
  /** 0 = auto (ip_default_ttl). */
  ttl?: number;
  /** Default true. */
  udpCsum?: boolean;
  /** Source port range; min >= max (the default 0 0) means ip_local_port_range. */
  srcPortMin?: number;
  srcPortMax?: number;
}

/** Options of `fdbAdd`/`fdbReplace`/`fdbAppend`: the entry's state (default permanent) and the remote's VNI. */
export interface VxlanFdbOptions {
  state?: FdbEntryState;
  vni?: number;
}

/** vxlan_sock: the UDP socket one namespace has on one port, shared by the devices using that port. */
class VxlanSock {
  readonly vnis = new Map<number, VxlanDev>();
  readonly rcv: EncapRcv;

  constructor(
    readonly net: NetNs,
    readonly port: number,
  ) {
    this.rcv = (skb) => vxlanRcv(this, skb);
  }
}

const socks = new WeakMap<NetNs, Map<number, VxlanSock>>();
/** Every VXLAN device of a kernel, to name the device that sent a decapsulated frame (for traces and diagrams). */
const vteps = new WeakMap<Kernel, Set<VxlanDev>>();

function sockMap(net: NetNs): Map<number, VxlanSock> {
  let m = socks.get(net);
  if (!m) {
    m = new Map();
    socks.set(net, m);
  }
  return m;
}

function vtepSet(k: Kernel): Set<VxlanDev> {
  let s = vteps.get(k);
  if (!s) {
    s = new Set();
    vteps.set(k, s);
  }
  return s;
}

export class VxlanDev extends NetDev {
  readonly kind: DevKind = 'vxlan';
  readonly fdb = new VxlanFdb();
  /** vxlan->net: the namespace of the socket and the outer routing (where the device was created). */
  readonly net: NetNs;
  readonly vni: number;
  readonly local: Ipv4 | null;
  readonly lower: NetDev | null;
  readonly dstport: number;
  readonly learning: boolean;
  readonly ttl: number;
  readonly udpCsum: boolean;
  readonly srcPortMin: number;
  readonly srcPortMax: number;
  private readonly tsoMax: number;
  private sock: VxlanSock | null = null;
  private readonly unwatch: () => void;

  constructor(ns: NetNs, ifindex: number, mac: Mac, mtu: number, s: VxlanSpec, lower: NetDev | null) {
    super(ns, s.name, ifindex, mac, mtu);
    this.net = ns;
    this.vni = s.vni;
    this.local = s.local ?? null;
    this.lower = lower;
    this.dstport = s.dstport || VXLAN_DEFAULT_PORT_LINUX;
    this.learning = s.learning ?? true;
    this.ttl = s.ttl ?? 0;
    this.udpCsum = s.udpCsum ?? true;
    this.srcPortMin = s.srcPortMin ?? 0;
    this.srcPortMax = s.srcPortMax ?? 0;
    this.fdb.ageing = DEFAULT_AGEING_S * 1e9;
    // netif_inherit_tso_max: a device with a lower device takes its TSO limit.
    this.tsoMax = lower ? lower.tsoMaxSize() : TSO_LEGACY_MAX_SIZE;
    this.unwatch = ns.onNetdevEvent((ev, dev) => {
      // vxlan_handle_lowerdev_unregister: the device goes with its lower device. The notifier list is being walked,
      // so this notifier is removed only afterwards.
      if (ev === 'unregister' && dev === this.lower && this.ns.devs.get(this.name) === this) this.remove(false);
    });
  }

  override operState(): string {
    return this.adminUp ? 'UNKNOWN' : 'DOWN';
  }

  override tsoMaxSize(): number {
    return this.tsoMax;
  }

  /** vxlan_open → vxlan_sock_add: share or bind the port's socket and register this VNI on it. */
  override ndoOpen(): void {
    const m = sockMap(this.net);
    let vs = m.get(this.dstport);
    if (!vs) {
      vs = new VxlanSock(this.net, this.dstport);
      if (!this.net.sockets.bindEncap(this.dstport, vs.rcv))
        throw new NetlinkError('RTNETLINK answers: Address already in use', 'EADDRINUSE');
      m.set(this.dstport, vs);
    }
    vs.vnis.set(this.vni, this);
    this.sock = vs;
  }

  /** vxlan_stop: leave the socket (closed with its last device) and flush the dynamic FDB entries. */
  override ndoStop(): void {
    const vs = this.sock;
    if (vs) {
      if (vs.vnis.get(this.vni) === this) vs.vnis.delete(this.vni);
      if (vs.vnis.size === 0) {
        this.net.sockets.releaseEncap(vs.port, vs.rcv);
        sockMap(this.net).delete(vs.port);
      }
      this.sock = null;
    }
    this.fdb.flush(false);
  }

  /** vxlan_change_mtu: with a lower device the MTU may not exceed its MTU minus the encapsulation. */
  override ndoChangeMtu(mtu: number): void {
    if (this.lower && mtu > this.lower.mtu - VXLAN_HEADROOM)
      throw new NetlinkError('RTNETLINK answers: Invalid argument', 'EINVAL');
  }

  // ---- FDB (bridge fdb … dev DEV self, and flannel's netlink calls) ----

  private rdst(dst: Ipv4, vni?: number): VxlanRdst {
    return { ip: dst, port: this.dstport, vni: vni ?? this.vni };
  }

  /** `bridge fdb add MAC dev DEV dst IP`: EEXIST when the MAC already has an entry. */
  fdbAdd(mac: Mac, dst: Ipv4, opts: VxlanFdbOptions = {}): void {
    this.fdbUpdate('add', mac, dst, opts);
  }

  /** `bridge fdb replace MAC dev DEV dst IP self permanent`, as flannel programs each remote node's VTEP. */
  fdbReplace(mac: Mac, dst: Ipv4, opts: VxlanFdbOptions = {}): void {
    this.fdbUpdate('replace', mac, dst, opts);
  }

  /** `bridge fdb append`: another remote for the all-zeros (or a multicast) entry; frames are flooded to each. */
  fdbAppend(mac: Mac, dst: Ipv4, opts: VxlanFdbOptions = {}): void {
    this.fdbUpdate('append', mac, dst, opts);
  }

  /** `bridge fdb del MAC dev DEV [dst IP]`: one remote, or the whole entry. */
  fdbDel(mac: Mac, dst?: Ipv4): void {
    this.fdb.delete(mac, dst === undefined ? null : this.rdst(dst), this.ns.kernel.now);
  }

  /** The live entries, newest first (as `bridge fdb show` lists them). */
  fdbEntries(): VxlanFdbEntry[] {
    return this.fdb.list(this.ns.kernel.now);
  }

  private fdbUpdate(op: 'add' | 'append' | 'replace', mac: Mac, dst: Ipv4, opts: VxlanFdbOptions): void {
    this.fdb.update(
      { op, mac, state: opts.state ?? 'permanent', rdst: this.rdst(dst, opts.vni), addedByUser: true },
      this.ns.kernel.now,
    );
  }

  override ndoFdbAdd(req: NdoFdbAddRequest): void {
    // vxlan_fdb_parse: without NDA_DST the default destination's family decides, and this device has none.
    if (req.dst === undefined) throw new NetlinkError('RTNETLINK answers: Invalid argument', 'EINVAL');
    this.fdbUpdate(req.op, req.mac, req.dst, { state: req.state, ...(req.vni !== undefined ? { vni: req.vni } : {}) });
  }

  override ndoFdbDel(req: NdoFdbDelRequest): void {
    this.fdb.delete(req.mac, req.dst === undefined ? null : this.rdst(req.dst, req.vni), this.ns.kernel.now);
  }

  override ndoFdbDump(): NdoFdbDumpEntry[] {
    const out: NdoFdbDumpEntry[] = [];
    for (const e of this.fdbEntries())
      for (const r of e.remotes) {
        const line: NdoFdbDumpEntry = { mac: e.mac, dst: r.ip, state: e.state };
        if (r.port !== this.dstport) line.port = r.port;
        if (r.vni !== this.vni) line.vni = r.vni;
        out.push(line);
      }
    return out;
  }

  // ---- ip -d link, topology ----

  override linkInfoData(): string {
    const parts = [`id ${this.vni}`];
    if (this.local !== null) parts.push(`local ${formatIpv4(this.local)}`);
    if (this.lower) parts.push(`dev ${this.lower.ns === this.ns ? this.lower.name : `if${this.lower.ifindex}`}`);
    parts.push(`srcport ${this.srcPortMin} ${this.srcPortMax}`, `dstport ${this.dstport}`);
    if (!this.learning) parts.push('nolearning');
    parts.push(`ttl ${this.ttl === 0 ? 'auto' : this.ttl}`, `ageing ${DEFAULT_AGEING_S}`);
    parts.push(this.udpCsum ? 'udpcsum' : 'noudpcsum', 'noudp6zerocsumtx', 'noudp6zerocsumrx');
    return `${parts.join(' ')} `;
  }

  override topoInfo(): Partial<TopoDevice> {
    const remotes: string[] = [];
    for (const e of this.fdbEntries())
      for (const r of e.remotes) {
        const ip = formatIpv4(r.ip);
        if (!remotes.includes(ip)) remotes.push(ip);
      }
    return {
      vxlan: {
        vni: this.vni,
        ...(this.local !== null ? { local: formatIpv4(this.local) } : {}),
        dstport: this.dstport,
        remotes,
      },
    };
  }

  // ---- transmit ----

  /** vxlan_xmit: a frame (Ethernet header at skb.head) to the remotes its destination MAC maps to. */
  xmit(skb: Skb): void {
    const len = skb.end - skb.head;
    // dev_queue_xmit counted the frame; the driver counts per remote what it really sent (iptunnel_xmit_stats).
    this.stats.txPackets--;
    this.stats.txBytes -= len;
    const now = this.ns.kernel.now;
    const dst = readMac(skb.buf, skb.head);
    const f = this.fdb.lookup(dst, now) ?? this.fdb.lookup(0, now);
    if (!f) {
      this.stats.txDropped++;
      dropSkb(
        this.ns,
        skb,
        'VXLAN_NO_REMOTE',
        `no FDB entry for ${formatMac(dst)} and no 00:00:00:00:00:00 entry on ${this.name}`,
        this.name,
      );
      return;
    }
    f.used = now;
    const remotes = f.remotes;
    // Every remote but the last gets a copy (skb_clone), the last the frame itself.
    for (let i = 0; i < remotes.length; i++)
      this.xmitOne(i === remotes.length - 1 ? skb : skb.copy(), remotes[i]!, len);
  }

  /** vxlan_xmit_one for IPv4. */
  private xmitOne(skb: Skb, rd: VxlanRdst, len: number): void {
    const net = this.net;
    if (rd.ip === 0) {
      this.stats.txDropped++;
      dropSkb(this.ns, skb, 'VXLAN_NO_REMOTE', `FDB remote of ${this.name} is 0.0.0.0`, this.name);
      return;
    }
    const rt = ipRouteOutput(net, rd.ip, this.local);
    if (typeof rt === 'string') {
      dropSkb(this.ns, skb, 'NO_ROUTE', `no route to VTEP ${formatIpv4(rd.ip)} (${rt})`, this.name);
      return;
    }
    if (rt.dev === this) {
      dropSkb(this.ns, skb, 'NO_ROUTE', `circular route to ${formatIpv4(rd.ip)} through ${this.name}`, this.name);
      return;
    }
    if (rt.local) {
      this.encapBypass(skb, rd, len);
      return;
    }
    const b0 = skb.buf;
    const h0 = skb.head;
    // INET_ECN_encapsulate: the outer TOS carries the inner ECN bits (CE as ECT(0)); the device's tos is 0.
    let tos = 0;
    if (len >= ETH_HLEN + IPV4_HLEN && readU16(b0, h0 + 12) === ETH_P_IP) {
      const ecn = b0[h0 + ETH_HLEN + 1]! & 3;
      tos = ecn === 3 ? 2 : ecn;
    }
    const sport = udpFlowSrcPort(net, skb, this.srcPortMin, this.srcPortMax);
    const udpLen = UDP_HLEN + VXLAN_HLEN + len;
    const o = skb.push(IPV4_HLEN + UDP_HLEN + VXLAN_HLEN);
    const b = skb.buf;
    emitVxlan(b, o + IPV4_HLEN + UDP_HLEN, { flags: VXLAN_FLAG_I, vni: rd.vni });
    emitUdpHeader(b, o + IPV4_HLEN, sport, rd.port, udpLen, rt.src, rd.ip, this.udpCsum);
    const ttl = this.ttl || net.sysctl.ipDefaultTtl;
    emitIpv4BaseHeader(b, o, tos, IPV4_HLEN + udpLen, ipSelectIdent(net), false, ttl, IPPROTO_UDP, rt.src, rd.ip);
    skb.nh = o;
    skb.th = o + IPV4_HLEN;
    // iptunnel_xmit → skb_scrub_packet: no input device, no conntrack; the mark survives within one namespace.
    skb.inDev = null;
    skb.pktType = 'host';
    for (const _ in skb.ext) {
      skb.ext = {};
      break;
    }
    if (net !== this.ns) skb.mark = 0;
    const tr = this.ns.kernel.tracer;
    if (tr.tracing) {
      tr.emit(this.ns.name, skb.id, 'vxlan', {
        action: 'encap',
        dev: this.name,
        vni: rd.vni,
        local: formatIpv4(rt.src),
        remote: formatIpv4(rd.ip),
        sport,
        dport: rd.port,
        inner: describeFrame(b, o + IPV4_HLEN + UDP_HLEN + VXLAN_HLEN, len),
      });
    }
    traceRoute(net, skb, rd.ip, rt);
    this.stats.txPackets++;
    this.stats.txBytes += len - ETH_HLEN;
    ipLocalOut(net, skb, rt);
  }

  /** encap_bypass_if_local / vxlan_encap_bypass: a remote that is our own address is the local device with its VNI. */
  private encapBypass(skb: Skb, rd: VxlanRdst, len: number): void {
    const dst = sockMap(this.net).get(rd.port)?.vnis.get(rd.vni);
    if (!dst) {
      dropSkb(
        this.ns,
        skb,
        'VXLAN_VNI_NOT_FOUND',
        `local remote ${formatIpv4(rd.ip)}: no VXLAN device with VNI ${rd.vni} on port ${rd.port}`,
        this.name,
      );
      return;
    }
    if (dst.learning) dst.fdb.snoop(readMac(skb.buf, skb.head + 6), dst.rdst(0x7f000001, rd.vni), dst.ns.kernel.now);
    this.stats.txPackets++;
    this.stats.txBytes += len;
    skb.inDev = null;
    skb.ext = {};
    netifReceiveLater(dst, skb, this, 0);
  }

  /** The device another namespace's VTEP at `src` used to send VNI `vni` (for the trace's arrows), if any. */
  static findVtep(k: Kernel, src: Ipv4, vni: number): VxlanDev | null {
    for (const d of vtepSet(k)) {
      if (d.vni !== vni) continue;
      if (d.local === src || (d.local === null && isLocalAddr(d.net, src))) return d;
    }
    return null;
  }

  /** Unregisters the device; `unwatchNow` false when called from inside a netdevice notifier. */
  private remove(unwatchNow: boolean): void {
    if (this.master) linkSetNomaster(this);
    linkSetDown(this);
    this.fdb.flush(true);
    vtepSet(this.ns.kernel).delete(this);
    if (this.ns.devs.get(this.name) === this) this.ns.unregisterDev(this);
    if (unwatchNow) this.unwatch();
    else this.ns.kernel.queue.schedule(0, () => this.unwatch());
  }

  /** `ip link del` and namespace deletion. */
  destroy(): void {
    this.remove(true);
  }

  register(): void {
    this.ns.registerDev(this);
    vtepSet(this.ns.kernel).add(this);
  }
}

/** vxlan_rcv: a datagram for the port's socket, UDP checksum already verified (skb.th at the UDP header). */
function vxlanRcv(vs: VxlanSock, skb: Skb): void {
  const net = vs.net;
  const b = skb.buf;
  const th = skb.th;
  const ulen = readU16(b, th + 4);
  if (ulen < UDP_HLEN + VXLAN_HLEN) {
    dropSkb(net, skb, 'PKT_TOO_SMALL', `${ulen}-byte UDP datagram on VXLAN port ${vs.port}`);
    return;
  }
  const vh = th + UDP_HLEN;
  const flags = b[vh]!;
  if (!(flags & VXLAN_FLAG_I)) {
    dropSkb(net, skb, 'VXLAN_INVALID_HDR', `VXLAN flags 0x${flags.toString(16).padStart(2, '0')} without I`);
    return;
  }
  const vni = readU32(b, vh + 4) >>> 8;
  const dev = vs.vnis.get(vni);
  if (!dev) {
    dropSkb(net, skb, 'VXLAN_VNI_NOT_FOUND', `no VXLAN device with VNI ${vni} on port ${vs.port}`);
    return;
  }
  if (flags !== VXLAN_FLAG_I || b[vh + 1]! | b[vh + 2]! | b[vh + 3]! | b[vh + 7]!) {
    dropSkb(net, skb, 'VXLAN_INVALID_HDR', 'reserved VXLAN header bits set', dev.name);
    return;
  }
  const inner = vh + VXLAN_HLEN;
  const end = th + ulen;
  if (end - inner < ETH_HLEN) {
    dropSkb(net, skb, 'PKT_TOO_SMALL', 'no inner Ethernet header', dev.name);
    return;
  }
  const srcMac = readMac(b, inner + 6);
  if (srcMac === dev.mac) {
    dropSkb(net, skb, 'LOCAL_MAC', `inner source ${formatMac(srcMac)} is ${dev.name}'s own address`, dev.name);
    return;
  }
  const outerSrc = ipSrc(b, skb.nh);
  const outerDst = ipDst(b, skb.nh);
  const now = net.kernel.now;
  if (dev.learning) {
    if (srcMac === 0 || isMulticastMac(srcMac)) {
      dropSkb(net, skb, 'MAC_INVALID_SOURCE', `inner source ${formatMac(srcMac)}`, dev.name);
      return;
    }
    const refused = dev.fdb.snoop(srcMac, { ip: outerSrc, port: dev.dstport, vni: dev.vni }, now);
    if (refused) {
      dropSkb(
        net,
        skb,
        refused,
        `${formatMac(srcMac)} is pinned to another VTEP than ${formatIpv4(outerSrc)}`,
        dev.name,
      );
      return;
    }
  }
  const tr = net.kernel.tracer;
  if (tr.tracing)
    tr.emit(net.name, skb.id, 'vxlan', {
      action: 'decap',
      dev: dev.name,
      vni,
      local: formatIpv4(outerDst),
      remote: formatIpv4(outerSrc),
      sport: readU16(b, th),
      dport: vs.port,
      inner: describeFrame(b, inner, end - inner),
    });
  // __iptunnel_pull_header: the outer headers go, and with them the hash, conntrack and input device.
  skb.head = inner;
  skb.end = end;
  skb.nh = -1;
  skb.th = -1;
  skb.hash = 0;
  skb.inDev = null;
  for (const _ in skb.ext) {
    skb.ext = {};
    break;
  }
  if (dev.ns !== net) skb.mark = 0;
  // The device's RX bytes count the inner IP packet (dev_sw_netstats_rx_add after eth_type_trans).
  dev.stats.rxBytes -= ETH_HLEN;
  netifReceive(dev, skb, VxlanDev.findVtep(net.kernel, outerSrc, vni));
}

/** `ip link add NAME [address MAC] [mtu N] type vxlan id VNI …` (vxlan_newlink with vxlan_config_validate). */
export function createVxlan(ns: NetNs, s: VxlanSpec): VxlanDev {
  checkIfname(s.name);
  if (ns.devs.has(s.name)) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
  if (!Number.isInteger(s.vni) || s.vni < 0 || s.vni >= VXLAN_N_VID)
    throw new NetlinkError(`Error: VXLAN ID must be lower than ${VXLAN_N_VID}.`, 'ERANGE');
  const dstport = s.dstport || VXLAN_DEFAULT_PORT_LINUX;
  if (!Number.isInteger(dstport) || dstport < 0 || dstport > 0xffff)
    throw new NetlinkError(`Error: invalid dstport ${s.dstport}.`, 'EINVAL');
  const min = s.srcPortMin ?? 0;
  const max = s.srcPortMax ?? 0;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max > 0xffff || max < min)
    throw new NetlinkError('Error: Invalid source port range.', 'EINVAL');
  if (s.ttl !== undefined && (!Number.isInteger(s.ttl) || s.ttl < 0 || s.ttl > 255))
    throw new NetlinkError(`Error: TTL ${s.ttl} is not in 0-255.`, 'EINVAL');
  if (s.local !== undefined && s.local >>> 28 === 0xe)
    throw new NetlinkError('Error: Local address cannot be multicast.', 'EINVAL');
  const lower = s.dev !== undefined ? ns.dev(s.dev) : null;
  for (const d of ns.devs.values())
    if (d instanceof VxlanDev && d.vni === s.vni && d.dstport === dstport)
      throw new NetlinkError('Error: A VXLAN device with the specified VNI already exists.', 'EEXIST');
  // vxlan_config_apply: a lower device caps the MTU at its own minus the encapsulation (never below 68).
  const maxMtu = lower ? Math.max(lower.mtu - VXLAN_HEADROOM, 68) : 65535;
  let mtu = lower ? maxMtu : 1500;
  if (s.mtu !== undefined) {
    if (s.mtu < 68) throw new NetlinkError('Error: mtu less than device minimum.', 'EINVAL');
    if (s.mtu > 65535) throw new NetlinkError('Error: mtu greater than device maximum.', 'EINVAL');
    mtu = Math.min(s.mtu, maxMtu);
  }
  const dev = new VxlanDev(ns, ns.allocIfindex(), s.mac ?? ns.kernel.rng.mac(), mtu, { ...s, dstport }, lower);
  if (s.mac !== undefined) dev.macSet = true;
  dev.register();
  return dev;
}
