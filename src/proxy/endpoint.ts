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

type Candidate = { -readonly [K in keyof EndpointInfo]: EndpointInfo[K] };

/** One entry per endpoint of a sorted list: the first copy, or the last local one when there is one. */
function dedup(sorted: Candidate[]): Candidate[] {
  const list: Candidate[] = [];
  for (let i = 0; i < sorted.length; ) {
    let pick = sorted[i]!;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.endpoint === pick.endpoint) {
      if (sorted[j]!.isLocal) pick = sorted[j]!;
      j++;
    }
    list.push(pick);
    i = j;
  }
  return list;
}

const byEndpoint = (a: EndpointInfo, b: EndpointInfo): number =>
  a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0;

const LOWER: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

interface PortEntries {
  nameString: string;
  proto: string;
  candidates: Candidate[];
}

/**
 * The endpoint lists of one Service from its slices (the cache's "applied" set). `previous` (what the same Service
 * yielded before) only lends the chain names of endpoints it already had, so an update hashes new endpoints alone.
 */
export function endpointsFromSlices(
  service: string,
  slices: Iterable<EndpointSlice>,
  nodeName: string,
  previous?: ReadonlyMap<string, readonly EndpointInfo[]>,
): Map<string, EndpointInfo[]> {
  const slash = service.indexOf('/');
  const namespace = service.slice(0, slash);
  const name = service.slice(slash + 1);
  const byPort = new Map<string, PortEntries>();
  for (const slice of slices) {
    const sp = slice.ports ?? [];
    const ports = sp.length < 2 ? sp : [...sp].sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
    for (const p of ports) {
      if (p.port === undefined || p.port === 0) continue;
      const portName = p.name ?? '';
      const protocol: Protocol = p.protocol ?? 'TCP';
      const key = servicePortKey(namespace, name, portName, protocol);
      let entries = byPort.get(key);
      if (entries === undefined) {
        entries = {
          nameString: servicePortNameString(namespace, name, portName),
          proto: LOWER[protocol] ?? protocol.toLowerCase(),
          candidates: [],
        };
        byPort.set(key, entries);
      }
      const suffix = `:${p.port}`;
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = canonicalIp(first);
        if (ip === null) continue;
        const c = ep.conditions;
        const hints = ep.hints;
        entries.candidates.push({
          ip,
          port: p.port,
          endpoint: ip + suffix,
          isLocal: nodeName !== '' && ep.nodeName === nodeName,
          ready: c?.ready ?? true,
          serving: c?.serving ?? true,
          terminating: c?.terminating ?? false,
          zoneHints: hints === undefined ? null : hintSet(hints.forZones),
          nodeHints: hints === undefined ? null : hintSet(hints.forNodes),
          chain: '',
        });
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, { nameString, proto, candidates }] of byPort) {
    if (candidates.length === 0) continue;
    // Stable, so equal endpoints keep slice order: the first copy wins unless a later one is local (the last
    // local copy then), as the cache's map of endpoints does it.
    candidates.sort(byEndpoint);
    let list = candidates;
    for (let i = 1; i < candidates.length; i++)
      if (candidates[i]!.endpoint === candidates[i - 1]!.endpoint) {
        list = dedup(candidates);
        break;
      }
    const known = previous?.get(key);
    let chains: Map<string, string> | null = null;
    if (known !== undefined && known.length > 0) {
      chains = new Map();
      for (const ep of known) chains.set(ep.endpoint, ep.chain);
    }
    for (const ep of list) ep.chain = chains?.get(ep.endpoint) ?? endpointChain(nameString, proto, ep.endpoint);
    out.set(key, list);
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
