// The emulated machine: every network namespace, the virtual clock, the seeded PRNG and the trace recorder that
// all of them share. Names of namespaces follow `ip netns` (the initial namespace is called `root` and cannot be
// added or deleted). Packet ids are global so a trace can follow a packet across namespaces. The topology snapshot
// takes each namespace's common device fields and lets every device add its kind-specific ones (NetDev.topoInfo).

import { EventQueue, type Nanos } from '../sim/events.js';
import { Rng } from '../sim/rng.js';
import { Tracer } from '../trace/recorder.js';
import type { TopologySnapshot, TopoNamespace } from '../trace/topology.js';
import { NetlinkError } from './errors.js';
// Protocol handlers register with the device layer when their modules load (dev_add_pack).
import './arp.js';
import './ip_input.js';
import { linkSetUp } from './link.js';
import { NetNs } from './netns.js';

export interface KernelOptions {
  seed?: number;
  /** Time a frame takes to cross a veth or reach a bridge port, in ns. */
  linkDelayNs?: Nanos;
}

export const ROOT_NS = 'root';

type NsListener = (ns: NetNs) => void;

export class Kernel {
  readonly queue = new EventQueue();
  readonly rng: Rng;
  readonly tracer: Tracer;
  readonly namespaces = new Map<string, NetNs>();
  readonly root: NetNs;
  readonly linkDelay: Nanos;
  private pktSeq = 0;
  private nsCreated: NsListener[] = [];

  constructor(opts: KernelOptions = {}) {
    this.rng = new Rng(opts.seed ?? 1);
    this.tracer = new Tracer(this.queue);
    this.linkDelay = opts.linkDelayNs ?? 1000;
    this.root = new NetNs(this, ROOT_NS);
    this.namespaces.set(ROOT_NS, this.root);
    // The initial namespace is a booted host's: its loopback is up (namespaces added later start with lo down).
    linkSetUp(this.root.lo);
  }

  nextPktId(): number {
    return ++this.pktSeq;
  }

  /** Extensions (netfilter, bridge-netfilter) get a callback for every namespace, existing and future. */
  onNetnsCreated(l: NsListener): void {
    this.nsCreated.push(l);
    for (const ns of this.namespaces.values()) l(ns);
  }

  addNetns(name: string): NetNs {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..')
      throw new NetlinkError(`Invalid netns name "${name}"`);
    if (this.namespaces.has(name))
      throw new NetlinkError(
        name === ROOT_NS
          ? `"${ROOT_NS}" names the initial namespace`
          : `Cannot create namespace file "/run/netns/${name}": File exists`,
        'EEXIST',
      );
    const ns = new NetNs(this, name);
    this.namespaces.set(name, ns);
    for (const l of this.nsCreated) l(ns);
    return ns;
  }

  netns(name: string): NetNs {
    const ns = this.namespaces.get(name);
    if (!ns) throw new NetlinkError(`Cannot open network namespace "${name}": No such file or directory`, 'ENOENT');
    return ns;
  }

  delNetns(name: string): void {
    if (name === ROOT_NS) throw new NetlinkError('the initial namespace cannot be deleted');
    const ns = this.netns(name);
    ns.destroy();
    this.namespaces.delete(name);
  }

  /** Advances virtual time, running every event due up to `until` (default: until nothing is pending). */
  run(until?: Nanos): void {
    this.queue.run(until);
  }

  get now(): Nanos {
    return this.queue.now;
  }

  topology(): TopologySnapshot {
    return { namespaces: [...this.namespaces.values()].map(snapshotWithInfo) };
  }
}

function snapshotWithInfo(ns: NetNs): TopoNamespace {
  const snap = ns.snapshot();
  const byIndex = new Map(ns.devices().map((d) => [d.ifindex, d]));
  return {
    ...snap,
    devices: snap.devices.map((entry) => {
      const info = byIndex.get(entry.ifindex)?.topoInfo?.();
      return info ? { ...entry, ...info, name: entry.name, ifindex: entry.ifindex } : entry;
    }),
  };
}
