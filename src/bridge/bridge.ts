// The Linux bridge device (net/bridge): ports are enslaved devices whose received frames are taken by the bridge's
// rx handler; the bridge learns source MACs, forwards known unicast to one port, floods broadcast, multicast and
// unknown unicast to every other port, never sends a frame back out the port it came in on unless that port is in
// hairpin mode, and passes frames for its own MAC (and broadcasts) up to the IP stack of the bridge device — which is
// how a bridge with an address acts as the pods' gateway. Without an explicit address the bridge takes the lowest MAC
// among its ports, as br_stp_recalculate_bridge_id does. STP is not run: ports forward as soon as they are up.
// With net.bridge.bridge-nf-call-iptables=1, IPv4 frames cross the netfilter hooks (see br_netfilter.ts).
// What `ip -d link` shows of a bridge and its ports is in link_info.ts.

import { devQueueXmit, dropSkb, netifReceive } from '../netns/dev.js';
import { NetlinkError } from '../netns/errors.js';
import { NetDev } from '../netns/netdev.js';
import type { NetNs } from '../netns/netns.js';
import type { Skb } from '../netns/skb.js';
import type { Nanos } from '../sim/events.js';
import type { DevKind } from '../trace/topology.js';
import { formatMac, isMulticastMac, MAC_BROADCAST, type Mac, readMac, readU16, writeMac } from '../wire/addr.js';
import { ETH_P_IP } from '../wire/ethernet.js';
import { bridgedDaddr, brNfDnatReroute, brNfHook } from './br_netfilter.js';
import { Fdb, type FdbEntry } from './fdb.js';
import { bridgeInfoData, bridgePortInfo } from './link_info.js';

export interface BridgePort {
  dev: NetDev;
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
  /** Order of enslavement (the kernel's port list is newest first). */
  order: number;
  /** port_no: the lowest number not in use when the port was added (find_portno), from 1. */
  portNo: number;
  /** When the port last entered the forwarding state (br_make_forwarding), null while disabled. */
  forwardingSince: Nanos | null;
}

export const DEFAULT_AGEING_NS: Nanos = 300e9;

export class Bridge extends NetDev {
  readonly kind: DevKind = 'bridge';
  readonly ports = new Map<NetDev, BridgePort>();
  readonly fdb = new Fdb();
  ageingTime: Nanos = DEFAULT_AGEING_NS;
  /** MTU set explicitly; otherwise the bridge follows its smallest port's MTU. */
  mtuSet = false;
  private portSeq = 0;
  private readonly unwatch: () => void;
  private hadPorts = false;
  /** When the bridge was last opened (its FDB garbage collection starts then), null while down. */
  openedAt: Nanos | null = null;

  constructor(ns: NetNs, name: string, ifindex: number, mac: Mac) {
    super(ns, name, ifindex, mac, 1500);
    this.fdb.set(this.localEntry(mac, null));
    this.unwatch = ns.onNetdevEvent((ev, dev) => this.portEvent(ev, dev));
  }

  private localEntry(mac: Mac, port: NetDev | null): FdbEntry {
    const now = this.ns.kernel.now;
    return { mac, port, isLocal: true, isStatic: true, addedByUser: false, updated: now, used: now };
  }

  /**
   * br_port_state_selection has run: it sets the carrier from the ports, and runs on every port change and bridge id
   * change (a port added, an address set). Until then a new bridge keeps the carrier it was registered with (on)
   * and its operstate stays UNKNOWN, which is what `ip link` shows for a fresh bridge that never had a port.
   */
  private carrierFromPorts = false;

  /** A bridge has carrier while any port is running (br_port_state_selection's live ports). */
  override carrier(): boolean {
    if (!this.carrierFromPorts) return true;
    for (const p of this.ports.values()) if (p.dev.running) return true;
    return false;
  }

  override operState(): string {
    if (!this.adminUp) return 'DOWN';
    if (!this.carrierFromPorts) return 'UNKNOWN';
    return this.carrier() ? 'UP' : 'DOWN';
  }

  override ndoOpen(): void {
    this.openedAt = this.ns.kernel.now;
  }

  override ndoStop(): void {
    this.openedAt = null;
  }

  /** br_set_gso_limits ran at the last port change: the ports' minimum; a bridge that never had one keeps 65536. */
  override tsoMaxSize(): number {
    if (this.ports.size === 0) return this.hadPorts ? 524280 : 65536;
    let min = 524280;
    for (const p of this.ports.values()) min = Math.min(min, p.dev.tsoMaxSize());
    return min;
  }

  override linkInfoData(): string {
    return bridgeInfoData(this);
  }

  override slaveInfo(port: NetDev): string | null {
    const p = this.ports.get(port);
    return p ? bridgePortInfo(this, p) : null;
  }

  portsNewestFirst(): BridgePort[] {
    return [...this.ports.values()].sort((a, b) => b.order - a.order);
  }

  /** br_add_if. */
  addPort(dev: NetDev): void {
    if (dev === this) throw new NetlinkError('Error: Can not enslave a bridge to itself.', 'ELOOP');
    if (dev.kind === 'loopback') throw new NetlinkError('Error: Can not enslave loopback device.', 'EINVAL');
    if (dev.kind === 'bridge') throw new NetlinkError('Error: Can not enslave a bridge to a bridge.', 'ELOOP');
    if (dev.ns !== this.ns) throw new NetlinkError(`Cannot find device "${dev.name}"`, 'ENODEV');
    if (dev.master) throw new NetlinkError('Error: Device is already in use.', 'EBUSY');
    dev.master = this;
    dev.rxHandler = (skb) => this.handleFrame(dev, skb);
    this.carrierFromPorts = true;
    let portNo = 1;
    const used = new Set([...this.ports.values()].map((p) => p.portNo));
    while (used.has(portNo)) portNo++;
    this.ports.set(dev, {
      dev,
      hairpin: false,
      learning: true,
      flood: true,
      order: this.portSeq++,
      portNo,
      forwardingSince: null,
    });
    this.updatePortStates();
    const own = this.fdb.get(dev.mac);
    if (own && own.port === null) this.fdb.delete(dev.mac);
    this.fdb.set(this.localEntry(dev.mac, dev));
    this.recalcMac();
    this.recalcMtu();
  }

  /** br_dev_delete: every port is released (it keeps working as a plain device), then the bridge goes away. */
  destroy(): void {
    for (const dev of [...this.ports.keys()]) this.delPort(dev);
    this.unwatch();
    if (this.adminUp) {
      this.adminUp = false;
      this.ns.notify('down', this);
    }
    this.ns.unregisterDev(this);
  }

  /** br_del_if. */
  delPort(dev: NetDev): void {
    if (!this.ports.has(dev)) return;
    this.ports.delete(dev);
    dev.master = null;
    dev.rxHandler = null;
    this.fdb.flushPort(dev, true);
    this.recalcMac();
    this.recalcMtu();
  }

  /**
   * Without STP a port forwards while the bridge is up and the port is running and operationally up
   * (br_stp_enable_port → br_make_forwarding), and is disabled otherwise.
   */
  portForwarding(p: BridgePort): boolean {
    const oper = p.dev.operState();
    return this.adminUp && p.dev.running && (oper === 'UP' || oper === 'UNKNOWN');
  }

  private updatePortStates(): void {
    const now = this.ns.kernel.now;
    for (const p of this.ports.values()) {
      if (!this.portForwarding(p)) p.forwardingSince = null;
      else if (p.forwardingSince === null) p.forwardingSince = now;
    }
  }

  private portEvent(ev: string, dev: NetDev): void {
    if (dev === this) {
      this.updatePortStates();
      return;
    }
    if (!this.ports.has(dev)) return;
    this.updatePortStates();
    if (ev === 'down' || ev === 'unregister') this.fdb.flushPort(dev, false);
    if (ev === 'unregister') this.delPort(dev);
    if (ev === 'change') {
      // A port's MAC may have changed: refresh its local entry and the bridge id.
      for (const e of [...this.fdb.entries.values()])
        if (e.port === dev && e.isLocal && !e.addedByUser && e.mac !== dev.mac) this.fdb.delete(e.mac);
      if (!this.fdb.get(dev.mac)) this.fdb.set(this.localEntry(dev.mac, dev));
      this.recalcMac();
      this.recalcMtu();
    }
  }

  /** br_stp_change_bridge_id (also when the address is given at creation, br_dev_newlink). */
  setMac(mac: Mac): void {
    this.carrierFromPorts = true;
    const old = this.fdb.get(this.mac);
    if (old && old.port === null) this.fdb.delete(this.mac);
    this.mac = mac;
    this.ensureOwnEntry();
  }

  /** The bridge's own MAC is always local; when a port has the same MAC, that port's entry serves. */
  private ensureOwnEntry(): void {
    // fdb_add_local refuses an invalid address: a bridge left with 00:00:00:00:00:00 has no own entry.
    if (this.mac !== 0 && !this.fdb.get(this.mac)) this.fdb.set(this.localEntry(this.mac, null));
  }

  private recalcMac(): void {
    this.ensureOwnEntry();
    if (this.macSet) return;
    if (this.ports.size === 0) {
      // br_stp_recalculate_bridge_id: the last port gone, a bridge without an assigned address has none.
      if (this.hadPorts && this.mac !== 0) this.setMac(0);
      return;
    }
    this.hadPorts = true;
    let min = Number.POSITIVE_INFINITY;
    for (const p of this.ports.values()) if (p.dev.mac < min) min = p.dev.mac;
    if (min !== this.mac) this.setMac(min);
  }

  private recalcMtu(): void {
    if (this.mtuSet || this.ports.size === 0) return;
    let min = 65535;
    for (const p of this.ports.values()) if (p.dev.mtu < min) min = p.dev.mtu;
    this.mtu = min;
  }

  private traceFdb(
    skb: Skb,
    mac: Mac,
    action: 'learn' | 'forward' | 'flood' | 'local' | 'age' | 'move',
    port?: NetDev,
  ): void {
    const tr = this.ns.kernel.tracer;
    if (!tr.tracing) return;
    tr.emit(this.ns.name, skb.id, 'fdb', {
      bridge: this.name,
      mac: formatMac(mac),
      action,
      ...(port ? { port: port.name } : {}),
    });
  }

  /** Looks up a destination, expiring an aged entry on the way. */
  private lookup(skb: Skb, mac: Mac): FdbEntry | undefined {
    const e = this.fdb.get(mac);
    if (!e) return undefined;
    const now = this.ns.kernel.now;
    if (this.fdb.expired(e, now, this.ageingTime)) {
      this.fdb.delete(mac);
      this.traceFdb(skb, mac, 'age', e.port ?? undefined);
      return undefined;
    }
    e.used = now;
    return e;
  }

  /** br_fdb_update: learn the source MAC of a frame received on `port`. */
  private learn(skb: Skb, src: Mac, port: NetDev): void {
    const now = this.ns.kernel.now;
    const e = this.fdb.get(src);
    if (!e) {
      this.fdb.set({ mac: src, port, isLocal: false, isStatic: false, addedByUser: false, updated: now, used: now });
      this.traceFdb(skb, src, 'learn', port);
      return;
    }
    if (e.isLocal || e.isStatic) return; // own or pinned address seen as a source: never moved
    if (e.port !== port) {
      e.port = port;
      this.traceFdb(skb, src, 'move', port);
    }
    e.updated = now;
  }

  /** br_handle_frame + br_handle_frame_finish for a frame received on port `dev`. */
  private handleFrame(dev: NetDev, skb: Skb): 'consumed' {
    const ns = this.ns;
    const b = skb.buf;
    const h = skb.head;
    const tr = ns.kernel.tracer;
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'stage', { stage: 'brHandleFrame', dev: dev.name, detail: `bridge ${this.name}` });
    if (!this.adminUp) {
      dropSkb(ns, skb, 'BRIDGE_PORT_DOWN', `bridge ${this.name} is down: port ${dev.name} is disabled`, dev.name);
      return 'consumed';
    }
    const src = readMac(b, h + 6);
    if (isMulticastMac(src) || src === 0) {
      dropSkb(ns, skb, 'IP_INHDR', `invalid source MAC ${formatMac(src)}`, dev.name);
      return 'consumed';
    }
    const ipv4 = this.isIpv4(skb);
    const daddr = ipv4 ? bridgedDaddr(skb) : 0;
    if (brNfHook(this, 'PREROUTING', skb, dev, null) === 'drop') return 'consumed';
    if (ipv4 && bridgedDaddr(skb) !== daddr && brNfDnatReroute(this, skb, dev, bridgedDaddr(skb)) === 'queued')
      return 'consumed';
    this.handleFrameFinish(dev, skb);
    return 'consumed';
  }

  /** br_handle_frame_finish: learning, then local delivery, forwarding or flooding. */
  private handleFrameFinish(dev: NetDev, skb: Skb): void {
    const p = this.ports.get(dev);
    if (!p) {
      dropSkb(this.ns, skb, 'BRIDGE_PORT_DOWN', `${dev.name} is no longer a port of ${this.name}`, dev.name);
      return;
    }
    const src = readMac(skb.buf, skb.head + 6);
    const dst = readMac(skb.buf, skb.head);
    if (p.learning) this.learn(skb, src, dev);
    if (dst === MAC_BROADCAST || isMulticastMac(dst)) {
      this.flood(skb, dev, true);
      return;
    }
    const e = this.lookup(skb, dst);
    if (e?.isLocal) {
      this.traceFdb(skb, dst, 'local');
      this.passUp(skb, dev);
      return;
    }
    if (e?.port) {
      this.traceFdb(skb, dst, 'forward', e.port);
      this.forward(skb, e.port, dev);
      return;
    }
    this.flood(skb, dev, this.promisc);
  }

  /** br_pass_frame_up: the frame enters the IP stack on the bridge device. */
  private passUp(skb: Skb, port: NetDev): void {
    skb.pktType = readMac(skb.buf, skb.head) === this.mac ? 'host' : skb.pktType;
    skb.inDev = null;
    netifReceive(this, skb, port);
  }

  private shouldDeliver(p: BridgePort, ingress: NetDev | null): boolean {
    return p.dev.running && (p.dev !== ingress || p.hairpin);
  }

  /** br_forward to one port (a frame never goes back where it came from, unless hairpin). */
  private forward(skb: Skb, to: NetDev, ingress: NetDev | null): void {
    const p = this.ports.get(to)!;
    if (!this.shouldDeliver(p, ingress)) {
      dropSkb(
        this.ns,
        skb,
        p.dev === ingress ? 'BRIDGE_SAME_PORT' : 'BRIDGE_PORT_DOWN',
        p.dev === ingress
          ? `destination is behind ingress port ${to.name} and hairpin is off`
          : `port ${to.name} is not forwarding`,
        to.name,
      );
      return;
    }
    this.transmit(skb, to, ingress);
  }

  private transmit(skb: Skb, to: NetDev, ingress: NetDev | null): void {
    if (ingress) {
      if (brNfHook(this, 'FORWARD', skb, ingress, to) === 'drop') return;
      if (brNfHook(this, 'POSTROUTING', skb, ingress, to) === 'drop') return;
    }
    devQueueXmit(to, skb);
  }

  /** br_flood: a copy to every eligible port; `local` also passes a copy up to the bridge device. */
  private flood(skb: Skb, ingress: NetDev | null, local: boolean): void {
    const targets = this.portsNewestFirst().filter((p) => p.flood && this.shouldDeliver(p, ingress));
    const dst = readMac(skb.buf, skb.head);
    this.traceFdb(skb, dst, 'flood');
    for (const p of targets) this.transmit(skb.copy(), p.dev, ingress);
    if (local && ingress) this.passUp(skb, ingress);
    else if (targets.length === 0)
      dropSkb(this.ns, skb, 'BRIDGE_PORT_DOWN', `no port of ${this.name} to flood to`, this.name);
  }

  /** br_dev_xmit: a frame the bridge device itself sends (from its IP stack). */
  xmit(skb: Skb): void {
    const dnat = skb.ext.bridgedDnat;
    if (dnat) {
      // br_nf_pre_routing_finish_bridge_slow: resolved; the frame resumes from its ingress port as it was sent.
      skb.ext.bridgedDnat = undefined;
      writeMac(skb.buf, skb.head + 6, dnat.src);
      this.handleFrameFinish(dnat.physIn, skb);
      return;
    }
    const dst = readMac(skb.buf, skb.head);
    if (dst === MAC_BROADCAST || isMulticastMac(dst)) {
      this.flood(skb, null, false);
      return;
    }
    const e = this.lookup(skb, dst);
    if (e?.isLocal) {
      this.traceFdb(skb, dst, 'local');
      this.passUp(skb, this);
      return;
    }
    if (e?.port) {
      this.traceFdb(skb, dst, 'forward', e.port);
      this.forward(skb, e.port, null);
      return;
    }
    this.flood(skb, null, false);
  }

  isIpv4(skb: Skb): boolean {
    return readU16(skb.buf, skb.head + 12) === ETH_P_IP;
  }
}

export function createBridge(
  ns: NetNs,
  name: string,
  opts: { mac?: Mac; ageingTime?: Nanos; mtu?: number } = {},
): Bridge {
  if (ns.devs.has(name)) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
  const br = new Bridge(ns, name, ns.allocIfindex(), opts.mac ?? ns.kernel.rng.mac());
  if (opts.mac !== undefined) {
    br.macSet = true;
    br.setMac(opts.mac);
  }
  if (opts.ageingTime !== undefined) br.ageingTime = opts.ageingTime;
  if (opts.mtu !== undefined) {
    br.mtu = opts.mtu;
    br.mtuSet = true;
  }
  ns.registerDev(br);
  return br;
}
