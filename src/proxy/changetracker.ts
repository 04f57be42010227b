// Change tracking between syncs, as kube-proxy's ServiceChangeTracker and EndpointsChangeTracker do it
// (pkg/proxy/servicechangetracker.go, endpointschangetracker.go, endpointslicecache.go, v1.35/v1.36): events
// accumulate per Service (namespace/name) as a (previous, current) pair, an update that undoes an earlier one
// cancels it, and a sync checks the changes out, applies them to the service-port and endpoints maps and learns
// which Services changed — the ones whose chains a partial sync rewrites. Slices are cached per Service by slice
// name (applied vs. pending), so an endpoint moving between slices is not lost, together with the endpoint lists
// they last yielded: applying touches only the Services with pending changes, and an updated list reuses the chain
// names of the endpoints it keeps. `conntrackCleanupRequired` is set when a changed Service has a UDP port before or
// after the change.

import { type EndpointInfo, endpointsFromSlices, sliceService, sliceSignature } from './endpoint.js';
import type { EndpointSlice, Service } from './model.js';
import { portMapSignature, type ServicePortInfo, servicePorts } from './serviceport.js';

export type ServicePortMap = Map<string, ServicePortInfo>;
export type EndpointsMap = Map<string, EndpointInfo[]>;

interface ServiceChange {
  previous: Map<string, ServicePortInfo>;
  current: Map<string, ServicePortInfo>;
}

function serviceKey(svc: Service): string {
  return `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
}

/** DeepEqual of two port maps; an empty map equals only an empty one, which spares the comparison on adds. */
function samePorts(a: ReadonlyMap<string, ServicePortInfo>, b: ReadonlyMap<string, ServicePortInfo>): boolean {
  if (a.size === 0 || b.size === 0) return a.size === b.size;
  return portMapSignature(a) === portMapSignature(b);
}

export class ServiceChangeTracker {
  private items = new Map<string, ServiceChange>();

  /** Records one add (previous null), update, or delete (current null); true while changes are pending. */
  update(previous: Service | null, current: Service | null): boolean {
    const svc = current ?? previous;
    if (svc === null) return false;
    const key = serviceKey(svc);
    let change = this.items.get(key);
    if (change === undefined) {
      change = { previous: servicePorts(previous), current: new Map() };
      this.items.set(key, change);
    }
    change.current = servicePorts(current);
    if (samePorts(change.previous, change.current)) this.items.delete(key);
    return this.items.size > 0;
  }

  get pending(): number {
    return this.items.size;
  }

  /** Applies the pending changes to `map`; returns the Services that changed. */
  apply(map: ServicePortMap): Set<string> {
    const updated = new Set<string>();
    for (const [key, change] of this.items) {
      updated.add(key);
      for (const k of change.previous.keys()) if (!change.current.has(k)) map.delete(k);
      for (const [k, v] of change.current) map.set(k, v);
    }
    this.items.clear();
    return updated;
  }
}

interface SliceTracker {
  applied: Map<string, EndpointSlice>;
  pending: Map<string, { slice: EndpointSlice; remove: boolean }>;
  /** The endpoint lists `applied` yielded at the last apply (what the endpoints map holds for the Service). */
  current: Map<string, EndpointInfo[]>;
  /** Creation order: changes are applied Service by Service in this order. */
  seq: number;
}

export interface EndpointsUpdateResult {
  updated: Set<string>;
  conntrackCleanupRequired: boolean;
}

/** Whether two slice states differ (null: deleted); signatures are only computed when both exist. */
function sliceChanged(before: EndpointSlice | null, after: EndpointSlice | null): boolean {
  if (before === null || after === null) return before !== after;
  return before !== after && sliceSignature(before) !== sliceSignature(after);
}

export class EndpointsChangeTracker {
  private trackers = new Map<string, SliceTracker>();
  /** Services with pending slice changes (so applying costs what changed, not what exists). */
  private dirty = new Set<string>();
  private created = 0;

  constructor(private readonly nodeName: string) {}

  /** Records a slice add/update (remove false) or delete; true when it changes what the cache will apply. */
  endpointSliceUpdate(slice: EndpointSlice, remove: boolean): boolean {
    const service = sliceService(slice);
    if (service === null) return false;
    const name = slice.metadata.name;
    let t = this.trackers.get(service);
    if (t === undefined) {
      t = { applied: new Map(), pending: new Map(), current: new Map(), seq: this.created++ };
      this.trackers.set(service, t);
    }
    const next = remove ? null : slice;
    const pend = t.pending.get(name);
    const app = t.applied.get(name);
    let changed: boolean;
    if (pend !== undefined) changed = sliceChanged(pend.remove ? null : pend.slice, next);
    else if (app !== undefined) changed = sliceChanged(app, next);
    else changed = !remove;
    if (changed) {
      t.pending.set(name, { slice, remove });
      this.dirty.add(service);
    }
    return changed;
  }

  /** Applies pending slice changes to `map`. */
  apply(map: EndpointsMap): EndpointsUpdateResult {
    const result: EndpointsUpdateResult = { updated: new Set(), conntrackCleanupRequired: false };
    const dirty: [string, SliceTracker][] = [];
    for (const service of this.dirty) {
      const t = this.trackers.get(service);
      if (t !== undefined && t.pending.size > 0) dirty.push([service, t]);
    }
    this.dirty.clear();
    dirty.sort((a, b) => a[1].seq - b[1].seq);
    for (const [service, t] of dirty) {
      const previous = t.current;
      for (const [name, p] of t.pending) {
        if (p.remove) t.applied.delete(name);
        else t.applied.set(name, p.slice);
      }
      t.pending.clear();
      if (t.applied.size === 0) this.trackers.delete(service);
      const current =
        t.applied.size === 0 ? new Map() : endpointsFromSlices(service, t.applied.values(), this.nodeName, previous);
      t.current = current;
      result.updated.add(service);
      for (const k of previous.keys()) map.delete(k);
      for (const [k, v] of current) map.set(k, v);
      if (!result.conntrackCleanupRequired) {
        for (const k of previous.keys()) if (k.endsWith('\u0000UDP')) result.conntrackCleanupRequired = true;
        for (const k of current.keys()) if (k.endsWith('\u0000UDP')) result.conntrackCleanupRequired = true;
      }
    }
    return result;
  }
}
