// API server defaulting (pkg/apis/core/v1/defaults.go, apps/v1 defaults and the Service REST strategy), applied to
// an object before it is validated and stored:
//  - Service: type ClusterIP, sessionAffinity None (ClientIP gets timeoutSeconds 10800), port protocol TCP,
//    targetPort = port, externalTrafficPolicy Cluster when externally accessible, internalTrafficPolicy Cluster,
//    allocateLoadBalancerNodePorts true for LoadBalancer, clusterIPs from clusterIP (NormalizeClusterIPs).
//    ipFamilies and ipFamilyPolicy are settled by the allocator (alloc/service.ts), as upstream.
//  - Pod and pod templates: restartPolicy Always, dnsPolicy ClusterFirst, schedulerName default-scheduler,
//    terminationGracePeriodSeconds 30, container port protocol TCP; a Pod starts Pending.
//  - Deployment: replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600;
//    ReplicaSet: replicas 1.
//  - Endpoints and EndpointSlice ports: protocol TCP (and name "" for slices); Namespace: the
//    kubernetes.io/metadata.name label and phase Active.

import type { Deployment, KubeObject, Namespace, Pod, PodSpec, ReplicaSet, Service } from './types.js';
import { DEFAULT_SCHEDULER, LABEL_NAMESPACE_NAME } from './types.js';

export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= DEFAULT_SCHEDULER;
  spec.terminationGracePeriodSeconds ??= 30;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  }
}

/** True for NodePort and LoadBalancer Services, and ClusterIP ones with externalIPs (apiservice.ExternallyAccessible). */
export function externallyAccessible(svc: Service): boolean {
  const t = svc.spec.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec.externalIPs?.length ?? 0) > 0);
}

/** LoadBalancer with externalTrafficPolicy Local: kube-proxy serves a health check node port (apiservice.NeedsHealthCheck). */
export function needsHealthCheck(svc: Service): boolean {
  return svc.spec.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';
}

export function defaultService(svc: Service): void {
  svc.spec ??= {};
  const spec = svc.spec;
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  spec.type ??= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc)) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') {
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  // NormalizeClusterIPs: a client that sets only the singular field means the plural one too.
  if (spec.clusterIP && (spec.clusterIPs === undefined || spec.clusterIPs.length === 0)) {
    spec.clusterIPs = [spec.clusterIP];
  }
}

export function defaultPod(pod: Pod): void {
  pod.spec ??= { containers: [] };
  defaultPodSpec(pod.spec);
  pod.status ??= {};
  pod.status.phase ??= 'Pending';
}

export function defaultDeployment(d: Deployment): void {
  const spec = d.spec;
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  // SetDefaults_Deployment copies the template's labels when the Deployment has none.
  if (d.metadata.labels === undefined && spec.template?.metadata?.labels) {
    d.metadata.labels = { ...spec.template.metadata.labels };
  }
}

export function defaultReplicaSet(rs: ReplicaSet): void {
  rs.spec.replicas ??= 1;
  if (rs.spec.template?.spec) defaultPodSpec(rs.spec.template.spec);
  if (rs.metadata.labels === undefined && rs.spec.template?.metadata?.labels) {
    rs.metadata.labels = { ...rs.spec.template.metadata.labels };
  }
}

export function defaultNamespace(ns: Namespace): void {
  if (ns.metadata.name) ns.metadata.labels = { ...ns.metadata.labels, [LABEL_NAMESPACE_NAME]: ns.metadata.name };
  ns.status = { phase: ns.status?.phase ?? 'Active' };
}

/** Applies the kind's defaults in place. */
export function applyDefaults(obj: KubeObject): void {
  switch (obj.kind) {
    case 'Service':
      defaultService(obj);
      return;
    case 'Pod':
      defaultPod(obj);
      return;
    case 'Deployment':
      defaultDeployment(obj);
      return;
    case 'ReplicaSet':
      defaultReplicaSet(obj);
      return;
    case 'Namespace':
      defaultNamespace(obj);
      return;
    case 'Endpoints':
      for (const ss of obj.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ??= 'TCP';
      return;
    case 'EndpointSlice':
      obj.endpoints ??= [];
      for (const p of obj.ports ?? []) {
        p.name ??= '';
        p.protocol ??= 'TCP';
      }
      return;
    case 'Node':
      return;
  }
}
