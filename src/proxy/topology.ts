// Which endpoints a service port uses on this node (pkg/proxy/topology.go CategorizeEndpoints, v1.35/v1.36):
// "Cluster" endpoints are the ready ones, narrowed by topology hints when every ready endpoint carries them and
// one names this node (PreferSameNode, node hints) or this node's zone (PreferSameZone, zone hints), falling back
// to serving-and-terminating endpoints when none is ready; "Local" endpoints are this node's ready endpoints, else
// its serving-and-terminating ones. `hasAny` tells whether any usable endpoint exists anywhere. The merged list
// of locally reachable endpoints is sorted by `ip:port` (upstream's order there comes from a Go map).
// Limits: the PreferSameTrafficDistribution gate is taken as on (its default since v1.34).

import type { EndpointInfo } from './endpoint.js';
import { type ServicePortInfo, usesClusterEndpoints, usesLocalEndpoints } from './serviceport.js';

export interface Categorized {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  allReachable: EndpointInfo[];
  hasAny: boolean;
}

type Mode = '' | 'PreferSameNode' | 'PreferSameZone';

function topologyMode(endpoints: readonly EndpointInfo[], nodeName: string, zone: string): Mode {
  let ready = false;
  let forNode = false;
  let allNode = true;
  let forZone = false;
  let allZone = true;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    ready = true;
    if (ep.nodeHints === null) allNode = false;
    else if (ep.nodeHints.has(nodeName)) forNode = true;
    if (ep.zoneHints === null) allZone = false;
    else if (ep.zoneHints.has(zone)) forZone = true;
  }
  if (!ready) return '';
  if (allNode && forNode) return 'PreferSameNode';
  if (allZone && forZone) return 'PreferSameZone';
  return '';
}

function available(ep: EndpointInfo, mode: Mode, nodeName: string, zone: string): boolean {
  if (mode === 'PreferSameNode') return ep.nodeHints?.has(nodeName) ?? false;
  if (mode === 'PreferSameZone') return ep.zoneHints?.has(zone) ?? false;
  return true;
}

export function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  svc: ServicePortInfo,
  nodeName: string,
  zone: string,
): Categorized {
  const out: Categorized = { cluster: [], local: [], allReachable: [], hasAny: false };
  if (endpoints.length === 0) return out;
  let mode: Mode = '';
  if (usesClusterEndpoints(svc)) {
    mode = topologyMode(endpoints, nodeName, zone);
    out.cluster = endpoints.filter((ep) => ep.ready && available(ep, mode, nodeName, zone));
    if (out.cluster.length === 0) out.cluster = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (out.cluster.length > 0) out.hasAny = true;
  }
  if (!usesLocalEndpoints(svc)) {
    out.allReachable = out.cluster;
    return out;
  }
  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      out.hasAny = true;
      if (ep.isLocal) localReady = true;
    } else if (ep.serving && ep.terminating) {
      out.hasAny = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  let terminatingOnly = false;
  if (localReady) out.local = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating) {
    terminatingOnly = true;
    out.local = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  }
  if (!usesClusterEndpoints(svc)) {
    out.allReachable = out.local;
    return out;
  }
  if (mode === '' && !terminatingOnly) {
    out.allReachable = out.cluster;
    return out;
  }
  const merged = new Map<string, EndpointInfo>();
  for (const ep of out.cluster) merged.set(ep.endpoint, ep);
  for (const ep of out.local) merged.set(ep.endpoint, ep);
  out.allReachable = [...merged.values()].sort((a, b) =>
    a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0,
  );
  return out;
}
