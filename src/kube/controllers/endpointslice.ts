// The EndpointSlice controller (pkg/controller/endpointslice with the k8s.io/endpointslice reconciler): for each
// Service with a selector, the pods it selects become endpoints in slices named `<service>-<5 random>` with the
// labels kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io
// (plus the Service's own labels and service.kubernetes.io/headless for headless Services), owned by the Service.
//  - A pod is an endpoint once it has an IP and until it is gone, terminal pods excepted; terminating pods stay
//    with terminating=true. serving = the pod's Ready condition; ready = serving and not terminating, or true when
//    the Service has publishNotReadyAddresses.
//  - Ports are resolved per pod: a named targetPort is looked up among the pod's container ports by name and
//    protocol; a pod without it is left out of that port, so pods with different port sets go to different
//    slices (one group per distinct port list).
//  - nodeName, the node's topology.kubernetes.io/zone label as zone, and hostname when the pod's subdomain names
//    the Service.
//  - At most 100 endpoints per slice; existing slices are updated in place, filled fullest first, new ones
//    created only for the rest, and a Service with no endpoints keeps one empty placeholder slice.
// Services without a selector (their slices are written by hand or mirrored from Endpoints) and ExternalName
// Services are left alone, as upstream.
// Limits: IPv4 address type only; no topology hints, no trafficDistribution; no last-change-trigger-time annotation.

import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE } from '../../proxy/model.js';
import { isPodReady, isPodTerminal, ownerRefTo } from '../pods.js';
import { matchesMap } from '../selectors.js';
import type { ApiStore, WatchEvent } from '../store.js';
import type { EndpointSlice, EndpointSliceEndpoint, EndpointSlicePort, Pod, Service, ServicePort } from '../types.js';
import { ENDPOINTSLICE_CONTROLLER } from '../types.js';
import { canonicalJson, clone, deepEqual, namePrefix } from '../util.js';

export const MAX_ENDPOINTS_PER_SLICE = 100;

/** FindPort: the container port a Service port reaches on `pod`, or undefined when the pod has no such port. */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === tp && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
    }
  }
  return undefined;
}

function endpointPorts(svc: Service, pod: Pod): EndpointSlicePort[] {
  const out: EndpointSlicePort[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointSlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** A key equal for equal port lists regardless of order (NewPortMapKey). */
function portMapKey(ports: readonly EndpointSlicePort[] | undefined): string {
  return canonicalJson([...(ports ?? [])].sort((a, b) => canonicalJson(a).localeCompare(canonicalJson(b))));
}

/** The identity of an endpoint within a slice (hashEndpoint): its addresses, hostname and target pod. */
function endpointKey(ep: EndpointSliceEndpoint): string {
  return canonicalJson({
    a: [...ep.addresses].sort(),
    h: ep.hostname ?? '',
    ns: ep.targetRef?.namespace ?? '',
    n: ep.targetRef?.name ?? '',
  });
}

/** ShouldPodBeInEndpoints with includeTerminating=true. */
function podWanted(pod: Pod): boolean {
  return !isPodTerminal(pod) && !!(pod.status?.podIP || pod.status?.podIPs?.length);
}

function reservedLabel(k: string): boolean {
  return k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY || k === LABEL_HEADLESS;
}

function userLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !reservedLabel(k)));
}

function sliceLabels(svc: Service): Record<string, string> {
  const labels = userLabels(svc.metadata.labels);
  const ip = svc.spec.clusterIP;
  if (ip === 'None' || !ip) labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata.name;
  labels[LABEL_MANAGED_BY] = ENDPOINTSLICE_CONTROLLER;
  return labels;
}

export class EndpointSliceController {
  private readonly unwatch: (() => void)[] = [];
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: ApiStore,
    readonly maxEndpoints = MAX_ENDPOINTS_PER_SLICE,
  ) {}

  start(): void {
    this.unwatch.push(
      this.store.watch('Service', (ev) => {
        if (ev.type !== 'DELETED') this.enqueue(ev.object.metadata.namespace ?? 'default', ev.object.metadata.name);
      }),
      this.store.watch('Pod', (ev) => this.onPod(ev)),
      this.store.watch('Node', () => this.syncAll()),
      this.store.watch('EndpointSlice', (ev) => {
        const l = ev.object.metadata.labels;
        if (ev.type === 'ADDED' || l?.[LABEL_MANAGED_BY] !== ENDPOINTSLICE_CONTROLLER) return;
        const svc = l[LABEL_SERVICE_NAME];
        if (svc !== undefined) this.enqueue(ev.object.metadata.namespace ?? 'default', svc);
      }),
    );
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  private onPod(ev: WatchEvent<Pod>): void {
    const ns = ev.object.metadata.namespace ?? 'default';
    for (const svc of this.store.list('Service', ns)) {
      const sel = svc.spec.selector;
      if (sel === undefined) continue;
      if (
        matchesMap(sel, ev.object.metadata.labels) ||
        (ev.oldObject && matchesMap(sel, ev.oldObject.metadata.labels))
      ) {
        this.enqueue(ns, svc.metadata.name);
      }
    }
  }

  syncAll(): void {
    for (const svc of this.store.list('Service')) this.enqueue(svc.metadata.namespace ?? 'default', svc.metadata.name);
  }

  /** Queues a Service; queued Services are synced once the store has delivered the events pending now. */
  enqueue(namespace: string, name: string): void {
    const first = this.pending.size === 0;
    this.pending.add(`${namespace}/${name}`);
    if (!first) return;
    this.store.whenIdle(() => {
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) {
        const i = k.indexOf('/');
        this.sync(k.slice(0, i), k.slice(i + 1));
      }
    });
  }

  /** syncService: brings the Service's managed slices in line with the pods it selects. */
  sync(namespace: string, name: string): void {
    const svc = this.store.get('Service', namespace, name);
    if (svc === undefined || svc.metadata.deletionTimestamp !== undefined) return;
    if (svc.spec.type === 'ExternalName' || svc.spec.selector === undefined) return;
    const selector = svc.spec.selector;
    const pods = this.store.list('Pod', namespace, (p) => matchesMap(selector, p.metadata.labels));
    const existing = this.store.list(
      'EndpointSlice',
      namespace,
      (s) =>
        s.metadata.labels?.[LABEL_SERVICE_NAME] === name &&
        s.metadata.labels?.[LABEL_MANAGED_BY] === ENDPOINTSLICE_CONTROLLER,
    );
    this.reconcile(svc, pods, existing);
  }

  private toEndpoint(svc: Service, pod: Pod): EndpointSliceEndpoint | undefined {
    const nodeName = pod.spec.nodeName;
    const node = nodeName ? this.store.get('Node', undefined, nodeName) : undefined;
    if (nodeName && node === undefined && !svc.spec.publishNotReadyAddresses) return undefined;
    const serving = isPodReady(pod);
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    const ready = svc.spec.publishNotReadyAddresses === true || (serving && !terminating);
    const addresses = (pod.status?.podIPs?.map((p) => p.ip) ?? [pod.status?.podIP ?? '']).filter(
      (ip) => ip !== '' && !ip.includes(':'),
    );
    if (addresses.length === 0) return undefined;
    const ep: EndpointSliceEndpoint = { addresses, conditions: { ready, serving, terminating } };
    const hostname = pod.spec.hostname;
    if (hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) {
      ep.hostname = hostname;
    }
    if (nodeName) ep.nodeName = nodeName;
    const zone = node?.metadata.labels?.[LABEL_TOPOLOGY_ZONE];
    if (zone) ep.zone = zone;
    ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
    return ep;
  }

  private newSlice(svc: Service, ports: EndpointSlicePort[]): EndpointSlice {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: '',
        generateName: namePrefix(svc.metadata.name),
        namespace: svc.metadata.namespace,
        labels: sliceLabels(svc),
        ownerReferences: [ownerRefTo(svc)],
      },
      addressType: 'IPv4',
      endpoints: [],
      ports: clone(ports),
    };
  }

  private reconcile(svc: Service, pods: readonly Pod[], existing: readonly EndpointSlice[]): void {
    const toDelete: EndpointSlice[] = [];
    const byPorts = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const owned = s.metadata.ownerReferences?.some(
        (o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1',
      );
      if (!owned || s.addressType !== 'IPv4') {
        toDelete.push(s);
        continue;
      }
      const k = portMapKey(s.ports);
      byPorts.set(k, [...(byPorts.get(k) ?? []), s]);
    }
    const desiredPorts = new Map<string, EndpointSlicePort[]>();
    const desired = new Map<string, Map<string, EndpointSliceEndpoint>>();
    for (const pod of pods) {
      if (!podWanted(pod)) continue;
      const ports = endpointPorts(svc, pod);
      const k = portMapKey(ports);
      if (!desired.has(k)) {
        desired.set(k, new Map());
        desiredPorts.set(k, ports);
      }
      const ep = this.toEndpoint(svc, pod);
      if (ep !== undefined) desired.get(k)!.set(endpointKey(ep), ep);
    }
    const toCreate: EndpointSlice[] = [];
    const toUpdate: EndpointSlice[] = [];
    for (const [k, set] of desired) {
      const r = this.reconcilePortMapping(svc, byPorts.get(k) ?? [], set, desiredPorts.get(k)!);
      toCreate.push(...r.create);
      toUpdate.push(...r.update);
      toDelete.push(...r.remove);
    }
    for (const [k, slices] of byPorts) if (!desired.has(k)) toDelete.push(...slices);
    if (existing.length === toDelete.length && toCreate.length === 0) {
      const placeholder = this.newSlice(svc, []);
      const only = toDelete.length === 1 ? toDelete[0]! : undefined;
      if (
        only !== undefined &&
        only.metadata.namespace === placeholder.metadata.namespace &&
        deepEqual(only.metadata.labels ?? {}, placeholder.metadata.labels) &&
        only.endpoints.length === 0 &&
        (only.ports ?? []).length === 0 &&
        only.metadata.ownerReferences?.some((o) => o.uid === svc.metadata.uid)
      ) {
        toDelete.length = 0;
      } else toCreate.push(placeholder);
    }
    this.finalize(svc, toCreate, toUpdate, toDelete);
  }

  private reconcilePortMapping(
    svc: Service,
    existing: readonly EndpointSlice[],
    desired: Map<string, EndpointSliceEndpoint>,
    ports: EndpointSlicePort[],
  ): { create: EndpointSlice[]; update: EndpointSlice[]; remove: EndpointSlice[] } {
    const max = this.maxEndpoints;
    const byName = new Map<string, EndpointSlice>();
    const unchanged: string[] = [];
    const update: string[] = [];
    const remove: string[] = [];
    const wantLabels = sliceLabels(svc);
    // 1. Drop endpoints no longer desired, refresh changed ones, follow the Service's labels.
    for (const s of existing) {
      byName.set(s.metadata.name, s);
      const kept: EndpointSliceEndpoint[] = [];
      let changed = false;
      for (const ep of s.endpoints) {
        const k = endpointKey(ep);
        const got = desired.get(k);
        if (got === undefined) continue;
        kept.push(got);
        if (!deepEqual(got, ep)) changed = true;
        desired.delete(k);
      }
      const labelsChanged = !deepEqual(userLabels(s.metadata.labels), userLabels(svc.metadata.labels));
      if (changed || kept.length !== s.endpoints.length) {
        if (kept.length === 0) remove.push(s.metadata.name);
        else {
          const c = clone(s);
          c.endpoints = kept;
          c.metadata.labels = wantLabels;
          byName.set(c.metadata.name, c);
          update.push(c.metadata.name);
        }
      } else if (labelsChanged || !deepEqual(s.metadata.labels, wantLabels)) {
        const c = clone(s);
        c.metadata.labels = wantLabels;
        byName.set(c.metadata.name, c);
        update.push(c.metadata.name);
      } else unchanged.push(s.metadata.name);
    }
    const pending = [...desired.values()];
    // 2. Fill the slices being updated anyway, fullest first.
    if (pending.length > 0 && update.length > 0) {
      const slices = update.map((n) => byName.get(n)!).sort((a, b) => b.endpoints.length - a.endpoints.length);
      for (const s of slices) while (pending.length > 0 && s.endpoints.length < max) s.endpoints.push(pending.shift()!);
    }
    // 3. Put what is left in an unchanged slice it fits in, or in new slices.
    const create: EndpointSlice[] = [];
    while (pending.length > 0) {
      let fill: EndpointSlice | undefined;
      if (pending.length < max && unchanged.length > 0) {
        let best = max;
        for (const n of unchanged) {
          const s = byName.get(n)!;
          const diff = max - (pending.length + s.endpoints.length);
          if (diff >= 0 && diff < best) {
            best = diff;
            fill = s;
          }
        }
      }
      if (fill === undefined) fill = this.newSlice(svc, ports);
      else {
        fill = clone(fill);
        byName.set(fill.metadata.name, fill);
      }
      while (pending.length > 0 && fill.endpoints.length < max) fill.endpoints.push(pending.shift()!);
      if (fill.metadata.name !== '') {
        if (!update.includes(fill.metadata.name)) update.push(fill.metadata.name);
        unchanged.splice(unchanged.indexOf(fill.metadata.name), 1);
      } else create.push(fill);
    }
    return {
      create,
      update: update.map((n) => byName.get(n)!),
      remove: remove.map((n) => byName.get(n)!),
    };
  }

  /** Turns creates into updates of slices about to be deleted, then writes. */
  private finalize(svc: Service, create: EndpointSlice[], update: EndpointSlice[], remove: EndpointSlice[]): void {
    for (let i = 0; i < remove.length && create.length > 0; ) {
      const old = remove[i]!;
      if (old.addressType === 'IPv4' && old.metadata.ownerReferences?.some((o) => o.uid === svc.metadata.uid)) {
        const s = create.pop()!;
        s.metadata.name = old.metadata.name;
        delete s.metadata.generateName;
        update.push(s);
        remove.splice(i, 1);
      } else i++;
    }
    for (const s of create) this.store.create(s);
    for (const s of update) {
      const live = this.store.get('EndpointSlice', s.metadata.namespace, s.metadata.name);
      if (live === undefined) continue;
      const next = clone(live);
      next.endpoints = s.endpoints;
      next.ports = s.ports;
      next.metadata.labels = s.metadata.labels;
      next.metadata.ownerReferences = s.metadata.ownerReferences;
      this.store.update(next);
    }
    for (const s of remove) {
      if (this.store.get('EndpointSlice', s.metadata.namespace, s.metadata.name) !== undefined) {
        this.store.delete('EndpointSlice', s.metadata.namespace, s.metadata.name);
      }
    }
  }
}
