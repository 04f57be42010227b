// EndpointSlices → per-service-port endpoint lists, as kube-proxy's EndpointSliceCache builds them
// (pkg/proxy/endpoint.go, endpointslicecache.go, v1.35/v1.36): only IPv4 slices labelled with their Service count;
// each slice port with a port number yields one list entry per endpoint (its first address), keyed like the
// Service's port (namespace/name, port name, protocol); duplicates across slices collapse to one, preferring a
// local copy; each list is sorted by `ip:port` text. Conditions default as the API documents them: ready and
// serving when unset, not terminating when unset. An endpoint is local when its nodeName is this node's name.
// Leniency: a slice port without `name` counts as the unnamed port "" (the endpointslice controller always writes
// the field; upstream skips a nil name). Limits: IPv4 only.

import { endpointChain } from './chains.js';
import { canonicalIp } from './ip.js';
import {
  type EndpointSlice,
  LABEL_HEADLESS,
  LABEL_SERVICE_NAME,
  LABEL_SERVICE_PROXY_NAME,
  type Protocol,
} from './model.js';
import { servicePortKey, servicePortNameString } from './serviceport.js';

export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** `ip:port`. */
  readonly endpoint: string;
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** hints.forZones names, null when none. */
  readonly zoneHints: ReadonlySet<string> | null;
  /** hints.forNodes names, null when none. */
  readonly nodeHints: ReadonlySet<string> | null;
  /** KUBE-SEP- chain of this endpoint for its service port. */
  readonly chain: string;
}

/** `namespace/serviceName` a slice belongs to, or null when kube-proxy ignores the slice. */
export function sliceService(slice: EndpointSlice): string | null {
  const labels = slice.metadata.labels ?? {};
  if (LABEL_SERVICE_PROXY_NAME in labels || LABEL_HEADLESS in labels) return null;
  const svc = labels[LABEL_SERVICE_NAME];
  if (!svc || !slice.metadata.name) return null;
  if (slice.addressType !== 'IPv4') return null;
  return `${slice.metadata.namespace ?? 'default'}/${svc}`;
}

function hintSet(names: { name: string }[] | undefined): ReadonlySet<string> | null {
  return names && names.length > 0 ? new Set(names.map((n) => n.name)) : null;
}

/** The endpoint lists of one Service from its slices (the cache's "applied" set). */
export function endpointsFromSlices(
  service: string,
  slices: Iterable<EndpointSlice>,
  nodeName: string,
): Map<string, EndpointInfo[]> {
  const slash = service.indexOf('/');
  const namespace = service.slice(0, slash);
  const name = service.slice(slash + 1);
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    const ports = [...(slice.ports ?? [])].sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
    for (const p of ports) {
      if (p.port === undefined || p.port === 0) continue;
      const portName = p.name ?? '';
      const protocol: Protocol = p.protocol ?? 'TCP';
      const key = servicePortKey(namespace, name, portName, protocol);
      const nameString = servicePortNameString(namespace, name, portName);
      const proto = protocol.toLowerCase();
      let set = byPort.get(key);
      if (set === undefined) {
        set = new Map();
        byPort.set(key, set);
      }
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = canonicalIp(first);
        if (ip === null) continue;
        const isLocal = nodeName !== '' && ep.nodeName === nodeName;
        const endpoint = `${ip}:${p.port}`;
        if (set.has(endpoint) && !isLocal) continue;
        const c = ep.conditions ?? {};
        set.set(endpoint, {
          ip,
          port: p.port,
          endpoint,
          isLocal,
          ready: c.ready ?? true,
          serving: c.serving ?? true,
          terminating: c.terminating ?? false,
          zoneHints: hintSet(ep.hints?.forZones),
          nodeHints: hintSet(ep.hints?.forNodes),
          chain: endpointChain(nameString, proto, endpoint),
        });
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, set] of byPort) {
    if (set.size === 0) continue;
    out.set(
      key,
      [...set.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)),
    );
  }
  return out;
}

/** What of a slice the cache compares to decide whether an update changes anything. */
export function sliceSignature(slice: EndpointSlice): string {
  return JSON.stringify({
    t: slice.addressType,
    p: slice.ports ?? [],
    e: slice.endpoints.map((e) => [e.addresses, e.nodeName, e.zone, e.conditions, e.hints]),
  });
}
