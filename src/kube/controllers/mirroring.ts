// The EndpointSlice mirroring controller (pkg/controller/endpointslicemirroring): for a Service without a
// selector, the hand-written v1 Endpoints of the same name are mirrored into EndpointSlices, which is what
// kube-proxy reads. Each subset's ports become the slice's ports, its addresses endpoints with ready=true and its
// notReadyAddresses endpoints with ready=false (hostname, nodeName and targetRef carried over), one group of
// slices per distinct port list; the slices carry the Endpoints' labels and annotations (but not
// kubectl's last-applied-configuration), kubernetes.io/service-name=<name>,
// endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io, and are owned by the Endpoints.
// Nothing is mirrored when the Service has a selector, does not exist, or the Endpoints carry
// endpointslice.kubernetes.io/skip-mirror=true (then mirrored slices are removed).
// Limits: at most 1000 addresses are mirrored per Endpoints (upstream truncates likewise); IPv6 addresses are
// skipped.

import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../proxy/model.js';
import { ownerRefTo } from '../pods.js';
import type { ApiStore } from '../store.js';
import type { EndpointSlice, EndpointSliceEndpoint, EndpointSlicePort, Endpoints } from '../types.js';
import { LABEL_SKIP_MIRROR, MIRRORING_CONTROLLER } from '../types.js';
import { canonicalJson, clone, namePrefix } from '../util.js';
import { parseIpSloppy } from '../validate/names.js';

const MAX_MIRRORED = 1000;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

interface Desired {
  ports: EndpointSlicePort[];
  endpoints: EndpointSliceEndpoint[];
}

export class EndpointsMirroringController {
  private readonly unwatch: (() => void)[] = [];

  constructor(private readonly store: ApiStore) {}

  start(): void {
    const sync = (ns: string | undefined, name: string) => this.sync(ns ?? 'default', name);
    this.unwatch.push(
      this.store.watch('Endpoints', (ev) => sync(ev.object.metadata.namespace, ev.object.metadata.name)),
      this.store.watch('Service', (ev) => sync(ev.object.metadata.namespace, ev.object.metadata.name)),
      this.store.watch('EndpointSlice', (ev) => {
        const l = ev.object.metadata.labels;
        if (ev.type !== 'ADDED' && l?.[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER && l[LABEL_SERVICE_NAME]) {
          sync(ev.object.metadata.namespace, l[LABEL_SERVICE_NAME]);
        }
      }),
    );
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  private mirrored(namespace: string, name: string): EndpointSlice[] {
    return this.store.list(
      'EndpointSlice',
      namespace,
      (s) =>
        s.metadata.labels?.[LABEL_SERVICE_NAME] === name &&
        s.metadata.labels?.[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER,
    );
  }

  private desired(ep: Endpoints): Map<string, Desired> {
    const out = new Map<string, Desired>();
    let total = 0;
    for (const ss of ep.subsets ?? []) {
      const ports: EndpointSlicePort[] = (ss.ports ?? []).map((p) => {
        const x: EndpointSlicePort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
        if (p.appProtocol !== undefined) x.appProtocol = p.appProtocol;
        return x;
      });
      const key = canonicalJson(ports);
      const d = out.get(key) ?? { ports, endpoints: [] };
      out.set(key, d);
      const seen = new Set(d.endpoints.map((e) => e.addresses[0]));
      const add = (ready: boolean) => (a: NonNullable<typeof ss.addresses>[number]) => {
        const ip = parseIpSloppy(a.ip);
        if (ip?.family !== 4 || total >= MAX_MIRRORED || seen.has(a.ip)) return;
        seen.add(a.ip);
        total++;
        const e: EndpointSliceEndpoint = { addresses: [a.ip], conditions: { ready } };
        if (a.hostname) e.hostname = a.hostname;
        if (a.nodeName !== undefined) e.nodeName = a.nodeName;
        if (a.targetRef !== undefined) e.targetRef = clone(a.targetRef);
        d.endpoints.push(e);
      };
      (ss.addresses ?? []).forEach(add(true));
      (ss.notReadyAddresses ?? []).forEach(add(false));
    }
    return out;
  }

  private sliceMeta(ep: Endpoints): Pick<EndpointSlice['metadata'], 'labels' | 'annotations'> {
    const labels = {
      ...ep.metadata.labels,
      [LABEL_SERVICE_NAME]: ep.metadata.name,
      [LABEL_MANAGED_BY]: MIRRORING_CONTROLLER,
    };
    const annotations = Object.fromEntries(
      Object.entries(ep.metadata.annotations ?? {}).filter(([k]) => k !== LAST_APPLIED && k !== TRIGGER_TIME),
    );
    return Object.keys(annotations).length > 0 ? { labels, annotations } : { labels };
  }

  sync(namespace: string, name: string): void {
    const ep = this.store.get('Endpoints', namespace, name);
    const svc = this.store.get('Service', namespace, name);
    const existing = this.mirrored(namespace, name);
    const wanted =
      ep !== undefined &&
      svc !== undefined &&
      svc.spec.selector === undefined &&
      ep.metadata.labels?.[LABEL_SKIP_MIRROR] !== 'true';
    if (!wanted) {
      for (const s of existing) this.store.delete('EndpointSlice', namespace, s.metadata.name);
      return;
    }
    const meta = this.sliceMeta(ep);
    const pool = [...existing];
    for (const d of this.desired(ep).values()) {
      if (d.endpoints.length === 0) continue;
      const key = canonicalJson(d.ports);
      const i = pool.findIndex((s) => canonicalJson(s.ports ?? []) === key);
      const reuse = i >= 0 ? pool.splice(i, 1)[0]! : undefined;
      if (reuse !== undefined) {
        const next = clone(reuse);
        next.endpoints = d.endpoints;
        next.ports = d.ports;
        next.metadata.labels = meta.labels;
        if (meta.annotations) next.metadata.annotations = meta.annotations;
        else delete next.metadata.annotations;
        next.metadata.ownerReferences = [ownerRefTo(ep)];
        this.store.update(next);
      } else {
        this.store.create({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: '', generateName: namePrefix(name), namespace, ...meta, ownerReferences: [ownerRefTo(ep)] },
          addressType: 'IPv4',
          endpoints: d.endpoints,
          ports: d.ports,
        });
      }
    }
    for (const s of pool) this.store.delete('EndpointSlice', namespace, s.metadata.name);
  }
}
