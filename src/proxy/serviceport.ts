// Service → per-port proxy records, as kube-proxy's ServiceChangeTracker builds them (pkg/proxy/serviceport.go,
// servicechangetracker.go, v1.35/v1.36): one ServicePortInfo per spec.ports entry, keyed by namespace/name, port
// name and protocol. Skipped as upstream skips them: ExternalName Services, Services without an IPv4 cluster IP
// (headless `None`, empty, IPv6-only), and Services carrying the service-proxy-name or headless label (the
// informer's label selector). Fields are filtered to IPv4 and normalised like k8s.io/utils/net's sloppy parser;
// load-balancer ingress counts only with an IP and ipMode VIP (or unset). Traffic policies follow
// pkg/api/v1/service: externalTrafficPolicy Local only for NodePort/LoadBalancer, health check node port only for
// LoadBalancer + Local. Limits: IPv4 only; `sessionAffinityConfig` timeout defaults to 10800 s when omitted.

import { formatIpv4 } from '../wire/addr.js';
import { type ServiceChains, serviceChains } from './chains.js';
import { canonicalIp, formatNet, parseCidrSloppy, parseIpSloppy } from './ip.js';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME, type Protocol, type Service, type ServicePort } from './model.js';

/** The key kube-proxy's ServicePortName stands for: namespace, name, port name, protocol. */
export function servicePortKey(namespace: string, name: string, portName: string, protocol: Protocol): string {
  // Joined rather than concatenated: a flat string, since every sync looks the key up in several maps.
  return [namespace, '/', name, '\u0000', portName, '\u0000', protocol].join('');
}

/** `ns/name:port`, or `ns/name` for an unnamed port (ServicePortName.String()). */
export function servicePortNameString(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

export interface ServicePortInfo {
  readonly key: string;
  /** `namespace/name`: the unit change tracking works in. */
  readonly service: string;
  readonly portName: string;
  /** `ns/name:port`, as comments print it. */
  readonly nameString: string;
  readonly protocol: Protocol;
  /** `tcp`, `udp` or `sctp`. */
  readonly proto: string;
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when none. */
  readonly nodePort: number;
  readonly sessionAffinityClientIP: boolean;
  readonly stickyMaxAgeSeconds: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerVIPs: readonly string[];
  /** Canonical network/len text. */
  readonly loadBalancerSourceRanges: readonly string[];
  /** 0 when none. */
  readonly healthCheckNodePort: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  readonly chains: ServiceChains;
}

/** NodePort, LoadBalancer or external IPs: reachable other than through the cluster IP. */
export function externallyAccessible(s: ServicePortInfo): boolean {
  return s.nodePort !== 0 || s.loadBalancerVIPs.length > 0 || s.externalIPs.length > 0;
}

/** The port ever sends traffic to endpoints chosen by "Cluster" policy (short-circuiting needs them too). */
export function usesClusterEndpoints(s: ServicePortInfo): boolean {
  return !s.internalPolicyLocal || externallyAccessible(s);
}

/** The port ever sends traffic to endpoints chosen by "Local" policy. */
export function usesLocalEndpoints(s: ServicePortInfo): boolean {
  return s.internalPolicyLocal || (s.externalPolicyLocal && externallyAccessible(s));
}

/** The Service's IPv4 cluster IP (GetClusterIPByFamily), or null. */
function clusterIPv4(svc: Service): string | null {
  const ips = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : [];
  for (const ip of ips) {
    const c = canonicalIp(ip);
    if (c !== null) return c;
  }
  return null;
}

/** True when kube-proxy ignores the Service altogether. */
export function skipService(svc: Service): boolean {
  const labels = svc.metadata.labels ?? {};
  if (LABEL_SERVICE_PROXY_NAME in labels || LABEL_HEADLESS in labels) return true;
  if (svc.spec.type === 'ExternalName') return true;
  const ip = svc.spec.clusterIP;
  if (ip === undefined || ip === '' || ip === 'None') return true;
  return clusterIPv4(svc) === null;
}

function externalPolicyLocal(svc: Service): boolean {
  const t = svc.spec.type;
  return (t === 'NodePort' || t === 'LoadBalancer') && svc.spec.externalTrafficPolicy === 'Local';
}

function portInfo(svc: Service, p: ServicePort, clusterIP: string): ServicePortInfo {
  const namespace = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name;
  const protocol: Protocol = p.protocol ?? 'TCP';
  const portName = p.name ?? '';
  const nameString = servicePortNameString(namespace, name, portName);
  const proto = protocol.toLowerCase();
  const clientIP = svc.spec.sessionAffinity === 'ClientIP';
  const eLocal = externalPolicyLocal(svc);
  const externalIPs: string[] = [];
  for (const ip of svc.spec.externalIPs ?? []) {
    const c = canonicalIp(ip);
    if (c !== null) externalIPs.push(c);
  }
  const ranges: string[] = [];
  for (const r of svc.spec.loadBalancerSourceRanges ?? []) {
    const n = parseCidrSloppy(r.trim());
    if (n !== null) ranges.push(formatNet(n));
  }
  const vips: string[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (!ing.ip || (ing.ipMode !== undefined && ing.ipMode !== 'VIP')) continue;
    const a = parseIpSloppy(ing.ip);
    if (a !== null) vips.push(formatIpv4(a));
  }
  const needsHealthCheck = svc.spec.type === 'LoadBalancer' && eLocal;
  return {
    key: servicePortKey(namespace, name, portName, protocol),
    service: [namespace, '/', name].join(''),
    portName,
    nameString,
    protocol,
    proto,
    clusterIP,
    port: p.port,
    nodePort: p.nodePort ?? 0,
    sessionAffinityClientIP: clientIP,
    stickyMaxAgeSeconds: clientIP ? (svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : 0,
    externalIPs,
    loadBalancerVIPs: vips,
    loadBalancerSourceRanges: ranges,
    healthCheckNodePort: needsHealthCheck ? (svc.spec.healthCheckNodePort ?? 0) : 0,
    externalPolicyLocal: eLocal,
    internalPolicyLocal: svc.spec.internalTrafficPolicy === 'Local',
    chains: serviceChains(nameString, proto),
  };
}

/** The Service's ports as kube-proxy records them (empty when the Service is skipped). */
export function servicePorts(svc: Service | null): Map<string, ServicePortInfo> {
  const out = new Map<string, ServicePortInfo>();
  if (svc === null || skipService(svc)) return out;
  const ip = clusterIPv4(svc)!;
  for (const p of svc.spec.ports ?? []) {
    const info = portInfo(svc, p, ip);
    out.set(info.key, info);
  }
  return out;
}

/** A comparable form of a port map (DeepEqual in the change tracker). */
export function portMapSignature(m: ReadonlyMap<string, ServicePortInfo>): string {
  const parts: string[] = [];
  for (const [k, v] of m) {
    const { chains: _c, ...rest } = v;
    parts.push(`${k}=${JSON.stringify(rest)}`);
  }
  return parts.join('\n');
}
