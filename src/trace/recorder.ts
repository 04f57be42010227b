// The recorder every layer reports to. Two independent switches: `tracing` keeps structured events, `capturing`
// copies every frame a device sends or receives to the capture sinks (pcap, pcapng), like tcpdump on that device.
// When both are off the hot path pays one boolean test per hop and allocates nothing.

import type { EventQueue, Nanos } from '../sim/events.js';
import type { TraceBase, TraceEvent, TraceKind, TraceKinds } from './events.js';

/** A device as a capture file sees it. Link type 1 = Ethernet (LINKTYPE_ETHERNET). */
export interface CaptureIface {
  id: number;
  ns: string;
  dev: string;
  linkType: number;
  snapLen: number;
}

/** Where captured frames go. Writers stream: a frame is written when it is seen, never buffered whole-run. */
export interface CaptureSink {
  addInterface(iface: CaptureIface): void;
  frame(ifaceId: number, t: Nanos, data: Uint8Array, dir: 'rx' | 'tx'): void;
  close(): void;
}

export type TraceListener = (e: TraceEvent) => void;

export class Tracer {
  tracing = false;
  capturing = false;
  /** Events kept in memory when `keep` is true (default); listeners see them either way. */
  keep = true;
  readonly events: TraceEvent[] = [];
  private listeners: TraceListener[] = [];
  private sinks: CaptureSink[] = [];
  private ifaces = new Map<string, CaptureIface>();
  private seq = 0;
  step = -1;

  constructor(private readonly clock: EventQueue) {}

  get now(): Nanos {
    return this.clock.now;
  }

  onEvent(l: TraceListener): void {
    this.listeners.push(l);
  }

  addSink(s: CaptureSink): void {
    this.sinks.push(s);
    for (const i of this.ifaces.values()) s.addInterface(i);
    this.capturing = true;
  }

  emit<K extends TraceKind>(ns: string, pkt: number, type: K, body: TraceKinds[K]): void {
    // A fixed-shape literal then Object.assign: much cheaper than object spread on this hot path.
    const base: TraceBase & { type: K } = { t: this.clock.now, seq: this.seq++, pkt, ns, step: this.step, type };
    const e = Object.assign(base, body) as unknown as TraceEvent;
    if (this.keep) this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  /** Records a frame on a device, registering the device with the sinks the first time it is seen. */
  frame(ns: string, dev: string, data: Uint8Array, dir: 'rx' | 'tx'): void {
    const key = `${ns}\u0000${dev}`;
    let iface = this.ifaces.get(key);
    if (!iface) {
      iface = { id: this.ifaces.size, ns, dev, linkType: 1, snapLen: 262144 };
      this.ifaces.set(key, iface);
      for (const s of this.sinks) s.addInterface(iface);
    }
    for (const s of this.sinks) s.frame(iface.id, this.clock.now, data, dir);
  }

  closeSinks(): void {
    for (const s of this.sinks) s.close();
    this.sinks = [];
    this.capturing = false;
  }
}
