// What `kubectl apply` of a manifest does to an object that already exists: the manifest's fields replace the live
// ones, while what the manifest does not set and the server or a controller filled in stays — uid, creation time,
// status, an allocated clusterIP and node ports (ports merge by port number, the list's merge key), the bound
// nodeName of a pod, the replica count `kubectl scale` set when the manifest has none, the Deployment's revision
// annotation. Then the Service update strategy: NormalizeClusterIPs (a changed clusterIP carries clusterIPs with it)
// and dropTypeDependentFields (changing type drops the cluster IPs, node ports or health check port the new type
// does not use, unless the manifest also changed them).
// Limits: a field removed from the manifest is removed from the object (podwire keeps no last-applied
// configuration, so it cannot tell user-set fields the manifest dropped from fields others set).

import { needsHealthCheck } from './defaults.js';
import type { KubeObject, Service } from './types.js';
import { ANNOTATION_REVISION } from './types.js';
import { deepEqual } from './util.js';

const SERVER_ANNOTATIONS = [
  ANNOTATION_REVISION,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
];

/** Copies into `obj` (the manifest's object, defaults not yet applied) what the live object keeps. */
export function mergeLive(obj: KubeObject, live: KubeObject): void {
  const m = obj.metadata;
  const lm = live.metadata;
  m.uid = lm.uid;
  m.creationTimestamp = lm.creationTimestamp;
  m.resourceVersion = lm.resourceVersion;
  if (lm.generation !== undefined) m.generation = lm.generation;
  if (lm.deletionTimestamp !== undefined) m.deletionTimestamp = lm.deletionTimestamp;
  if (m.ownerReferences === undefined && lm.ownerReferences !== undefined) m.ownerReferences = lm.ownerReferences;
  for (const k of SERVER_ANNOTATIONS) {
    const v = lm.annotations?.[k];
    if (v !== undefined && m.annotations?.[k] === undefined) m.annotations = { ...m.annotations, [k]: v };
  }
  if ('status' in live && live.status !== undefined) (obj as { status?: unknown }).status = live.status;
  switch (obj.kind) {
    case 'Service':
      if (live.kind === 'Service') mergeService(obj, live);
      return;
    case 'Pod':
      if (live.kind === 'Pod' && obj.spec && obj.spec.nodeName === undefined && live.spec.nodeName !== undefined) {
        obj.spec.nodeName = live.spec.nodeName;
      }
      return;
    case 'Deployment':
    case 'ReplicaSet':
      if ((live.kind === 'Deployment' || live.kind === 'ReplicaSet') && obj.spec && obj.spec.replicas === undefined) {
        obj.spec.replicas = live.spec.replicas;
      }
      return;
    default:
      return;
  }
}

function mergeService(svc: Service, live: Service): void {
  svc.spec ??= {};
  const spec = svc.spec;
  const ls = live.spec;
  if (spec.clusterIP === undefined && ls.clusterIP !== undefined) spec.clusterIP = ls.clusterIP;
  if (spec.clusterIPs === undefined && ls.clusterIPs !== undefined) spec.clusterIPs = [...ls.clusterIPs];
  if (spec.ipFamilies === undefined && ls.ipFamilies !== undefined) spec.ipFamilies = [...ls.ipFamilies];
  if (spec.ipFamilyPolicy === undefined && ls.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = ls.ipFamilyPolicy;
  if (spec.healthCheckNodePort === undefined && ls.healthCheckNodePort !== undefined) {
    spec.healthCheckNodePort = ls.healthCheckNodePort;
  }
  for (const p of spec.ports ?? []) {
    if (p.nodePort !== undefined) continue;
    const lp = ls.ports?.find((x) => x.port === p.port);
    if (lp?.nodePort !== undefined) p.nodePort = lp.nodePort;
  }
}

const needsClusterIP = (s: Service): boolean => s.spec.type !== 'ExternalName';
const needsNodePort = (s: Service): boolean => s.spec.type === 'NodePort' || s.spec.type === 'LoadBalancer';

/** NormalizeClusterIPs and dropTypeDependentFields of the Service update strategy, on a defaulted object. */
export function prepareServiceUpdate(svc: Service, old: Service): void {
  const spec = svc.spec;
  const os = old.spec;
  const sameIps = deepEqual(os.clusterIPs ?? [], spec.clusterIPs ?? []);
  if ((os.clusterIPs?.length ?? 0) > 0 && (spec.clusterIPs?.length ?? 0) === 0 && os.clusterIP === spec.clusterIP) {
    spec.clusterIPs = os.clusterIPs;
  }
  if ((os.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    if (os.clusterIP && !spec.clusterIP) {
      if (sameIps) delete spec.clusterIPs;
    } else if (sameIps && spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
  }
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (deepEqual(os.clusterIPs ?? [], spec.clusterIPs ?? [])) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(os.ipFamilies ?? [], spec.ipFamilies ?? [])) delete spec.ipFamilies;
    if (os.ipFamilyPolicy === spec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const nodePorts = (s: Service) => (s.spec.ports ?? []).map((p) => p.nodePort ?? 0);
  if (needsNodePort(old) && !needsNodePort(svc) && deepEqual(nodePorts(old), nodePorts(svc))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(svc) && os.healthCheckNodePort === spec.healthCheckNodePort) {
    delete spec.healthCheckNodePort;
  }
}
