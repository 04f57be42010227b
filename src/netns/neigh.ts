// The neighbour table (net/core/neighbour.c with ARP as its protocol): per device, IPv4 → MAC entries with NUD
// states. Output to an unresolved next hop creates an INCOMPLETE entry, queues the packet (up to unres_qlen) and
// broadcasts ARP requests every retrans_time; after mcast_solicit tries the entry becomes FAILED and every queued
// packet is answered with ICMP host unreachable, as neigh_invalidate → arp_error_report. A confirmed entry is
// REACHABLE for a random time around base_reachable_time, then STALE; using a STALE entry moves it to DELAY and,
// without confirmation, to PROBE (unicast requests) and FAILED. Permanent and noarp entries never age.
// Limits: no upper-layer confirmations (TCP does not refresh entries), no garbage collection thresholds.

import { formatIpv4, formatMac, type Ipv4, MAC_BROADCAST, type Mac } from '../wire/addr.js';
import { ETH_HLEN, ETH_P_IP, emitEth } from '../wire/ethernet.js';
import { ICMP_DEST_UNREACH, ICMP_HOST_UNREACH } from '../wire/icmp.js';
import { arpSolicit } from './arp.js';
import { devQueueXmit, dropSkb } from './dev.js';
import { icmpSend } from './icmp.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export type NudState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'NOARP' | 'PERMANENT';

/** Default unres_qlen: packets held per unresolved entry. */
export const UNRES_QLEN = 101;

export interface Neigh {
  ip: Ipv4;
  dev: NetDev;
  mac: Mac | null;
  state: NudState;
  queue: Skb[];
  probes: number;
  /** Time of the last state change (for `ip neigh` and locktime). */
  updated: number;
  confirmed: number;
  /** Bumped to cancel a pending timer. */
  timerGen: number;
  /** Packet id of the packet that triggered resolution, so ARP trace lines can be tied to it. */
  cause: number;
  router: boolean;
}

export class NeighTable {
  private byDev = new Map<NetDev, Map<Ipv4, Neigh>>();

  constructor(private readonly ns: NetNs) {
    ns.onNetdevEvent((ev, dev) => {
      // neigh_ifdown: a device going down or away takes its non-permanent entries with it.
      if (ev === 'down' || ev === 'unregister') this.flushDev(dev, ev === 'unregister');
    });
  }

  lookup(dev: NetDev, ip: Ipv4): Neigh | undefined {
    return this.byDev.get(dev)?.get(ip);
  }

  entries(): Neigh[] {
    const out: Neigh[] = [];
    for (const m of this.byDev.values()) for (const n of m.values()) out.push(n);
    return out;
  }

  private create(dev: NetDev, ip: Ipv4, state: NudState, mac: Mac | null): Neigh {
    let m = this.byDev.get(dev);
    if (!m) {
      m = new Map();
      this.byDev.set(dev, m);
    }
    const now = this.ns.kernel.now;
    const n: Neigh = {
      ip,
      dev,
      mac,
      state,
      queue: [],
      probes: 0,
      updated: now,
      confirmed: now,
      timerGen: 0,
      cause: 0,
      router: false,
    };
    m.set(ip, n);
    return n;
  }

  remove(n: Neigh): void {
    n.timerGen++;
    this.byDev.get(n.dev)?.delete(n.ip);
  }

  flushDev(dev: NetDev, all: boolean): void {
    const m = this.byDev.get(dev);
    if (!m) return;
    for (const n of [...m.values()]) {
      if (!all && n.state === 'PERMANENT') continue;
      for (const q of n.queue) dropSkb(this.ns, q, 'NEIGH_FAILED', `${dev.name} went down`, dev.name);
      n.queue = [];
      this.remove(n);
    }
  }

  /** `ip neigh add|replace`: a static entry. */
  addStatic(
    dev: NetDev,
    ip: Ipv4,
    mac: Mac | null,
    state: 'PERMANENT' | 'NOARP' | 'REACHABLE' | 'STALE',
    replace: boolean,
  ): void {
    const existing = this.lookup(dev, ip);
    if (existing && !replace) throw new Error('RTNETLINK answers: File exists');
    const n = existing ?? this.create(dev, ip, state, mac);
    n.timerGen++;
    n.mac = mac;
    n.state = state;
    n.updated = this.ns.kernel.now;
    n.confirmed = n.updated;
    if (state === 'REACHABLE') this.armReachable(n);
    this.flushQueue(n);
  }

  private trace(n: Neigh, pkt: number, action: 'hit' | 'resolve' | 'queue' | 'update' | 'failed' | 'reply'): void {
    const tr = this.ns.kernel.tracer;
    if (!tr.tracing) return;
    tr.emit(this.ns.name, pkt, 'neigh', {
      dev: n.dev.name,
      ip: formatIpv4(n.ip),
      action,
      state: n.state,
      ...(n.mac !== null ? { mac: formatMac(n.mac) } : {}),
    });
  }

  /**
   * neigh_output: sends an IPv4 packet (skb.head at the IP header) to `nexthop` on `dev`, resolving its MAC first.
   * `broadcast` (a broadcast route) skips resolution, as for NOARP neighbours.
   */
  output(dev: NetDev, nexthop: Ipv4, skb: Skb, broadcast: boolean): void {
    if (broadcast || dev.kind === 'loopback' || dev.kind === 'dummy') {
      this.xmitTo(dev, skb, broadcast ? MAC_BROADCAST : 0);
      return;
    }
    let n = this.lookup(dev, nexthop);
    if (!n) n = this.create(dev, nexthop, 'FAILED', null);
    switch (n.state) {
      case 'PERMANENT':
      case 'NOARP':
      case 'REACHABLE':
      case 'DELAY':
      case 'PROBE':
        this.trace(n, skb.id, 'hit');
        this.xmitTo(dev, skb, n.mac!);
        return;
      case 'STALE':
        // neigh_event_send on a STALE entry: keep sending, but start the delay timer for a confirmation.
        n.state = 'DELAY';
        n.updated = this.ns.kernel.now;
        this.trace(n, skb.id, 'hit');
        this.armTimer(n, this.parms(n).delay_first_probe_time * 1e9);
        this.xmitTo(dev, skb, n.mac!);
        return;
      case 'INCOMPLETE':
        this.enqueue(n, skb);
        return;
      case 'FAILED': {
        // __neigh_event_send: restart resolution with probes preset to ucast_solicit (unicast budget skipped).
        const p = this.parms(n);
        n.state = 'INCOMPLETE';
        n.updated = this.ns.kernel.now;
        n.probes = p.ucast_solicit;
        n.cause = skb.id;
        this.trace(n, skb.id, 'resolve');
        this.enqueue(n, skb);
        this.armTimer(n, Math.max(p.retrans_time_ms, 10) * 1e6);
        this.probe(n, skb);
        return;
      }
    }
  }

  private enqueue(n: Neigh, skb: Skb): void {
    if (n.queue.length >= UNRES_QLEN) {
      const old = n.queue.shift()!;
      dropSkb(this.ns, old, 'NEIGH_QUEUEFULL', `unresolved queue for ${formatIpv4(n.ip)} is full`, n.dev.name);
    }
    n.queue.push(skb);
    this.trace(n, skb.id, 'queue');
  }

  private parms(n: Neigh) {
    return this.ns.sysctl.neighParms(n.dev.name);
  }

  private probe(n: Neigh, skb: Skb | null): void {
    const p = this.parms(n);
    const ucastLeft = n.probes - p.ucast_solicit; // < 0 → unicast probe to the known address
    n.probes++;
    arpSolicit(this.ns, n, skb, ucastLeft < 0 && n.mac !== null ? n.mac : null);
  }

  private maxProbes(n: Neigh): number {
    const p = this.parms(n);
    return p.ucast_solicit + p.app_solicit + (n.state === 'PROBE' ? 0 : p.mcast_solicit);
  }

  private armTimer(n: Neigh, delay: number): void {
    const gen = ++n.timerGen;
    this.ns.kernel.queue.schedule(delay, () => {
      if (n.timerGen === gen) this.timer(n);
    });
  }

  private armReachable(n: Neigh): void {
    const base = this.parms(n).base_reachable_time_ms;
    // neigh_rand_reach_time: uniformly in [base/2, 3·base/2).
    const reach = this.ns.kernel.rng.int(Math.floor(base / 2), Math.floor((3 * base) / 2) - 1);
    this.armTimer(n, reach * 1e6);
  }

  /** neigh_timer_handler. */
  private timer(n: Neigh): void {
    const now = this.ns.kernel.now;
    const p = this.parms(n);
    if (n.state === 'REACHABLE') {
      n.state = 'STALE';
      n.updated = now;
      return;
    }
    if (n.state === 'DELAY') {
      if (now - n.confirmed < p.delay_first_probe_time * 1e9) {
        n.state = 'REACHABLE';
        n.updated = now;
        this.armReachable(n);
        return;
      }
      n.state = 'PROBE';
      n.updated = now;
      n.probes = 0;
    }
    if (n.state === 'INCOMPLETE' || n.state === 'PROBE') {
      if (n.probes >= this.maxProbes(n)) {
        this.fail(n);
        return;
      }
      this.armTimer(n, Math.max(p.retrans_time_ms, 10) * 1e6);
      this.probe(n, null);
    }
  }

  /** neigh_invalidate: every queued packet gets ICMP host unreachable and is dropped. */
  private fail(n: Neigh): void {
    n.state = 'FAILED';
    n.updated = this.ns.kernel.now;
    this.trace(n, n.cause, 'failed');
    const q = n.queue;
    n.queue = [];
    for (const skb of q) {
      icmpSend(this.ns, skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
      dropSkb(this.ns, skb, 'NEIGH_FAILED', `no ARP reply from ${formatIpv4(n.ip)} on ${n.dev.name}`, n.dev.name);
    }
  }

  /**
   * neigh_update from a received ARP packet. `reachable` for a reply addressed to us (NUD_REACHABLE), otherwise
   * STALE. `create` is true where the kernel creates the entry (a request for one of our addresses).
   */
  update(dev: NetDev, ip: Ipv4, mac: Mac, reachable: boolean, create: boolean, pkt: number): void {
    let n = this.lookup(dev, ip);
    if (!n) {
      if (!create) return;
      n = this.create(dev, ip, 'STALE', mac);
      n.updated = this.ns.kernel.now;
      this.trace(n, pkt, 'update');
      return;
    }
    if (n.state === 'PERMANENT' || n.state === 'NOARP') return;
    const now = this.ns.kernel.now;
    const changed = n.mac !== mac;
    if (reachable) {
      n.mac = mac;
      n.state = 'REACHABLE';
      n.confirmed = now;
      n.updated = now;
      this.armReachable(n);
    } else if (n.state === 'INCOMPLETE' || n.state === 'FAILED' || changed) {
      n.timerGen++;
      n.mac = mac;
      n.state = 'STALE';
      n.updated = now;
    }
    this.trace(n, pkt, 'update');
    this.flushQueue(n);
  }

  private flushQueue(n: Neigh): void {
    if (n.mac === null || n.queue.length === 0) return;
    const q = n.queue;
    n.queue = [];
    for (const skb of q) this.xmitTo(n.dev, skb, n.mac);
  }

  /** neigh_hh_output: pushes the Ethernet header and hands the frame to the device. */
  private xmitTo(dev: NetDev, skb: Skb, mac: Mac): void {
    const h = skb.push(ETH_HLEN);
    emitEth(skb.buf, h, { dst: mac, src: dev.mac, ethertype: ETH_P_IP });
    devQueueXmit(dev, skb);
  }
}
