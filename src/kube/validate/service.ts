// Service validation in the order and words of ValidateService / ValidateServiceUpdate (pkg/apis/core/validation):
// name (RFC 1035 label), ports (required unless headless or ExternalName; name, port, protocol, targetPort,
// appProtocol; duplicate names, ports and node ports), per-type rules (no 'None' clusterIP for NodePort and
// LoadBalancer, ExternalName needs externalName and no cluster IPs), selector labels, session affinity and its
// timeout, clusterIP/clusterIPs/ipFamilies consistency, externalIPs, loadBalancerSourceRanges (under upstream's
// capitalised path `spec.LoadBalancerSourceRanges`), allocateLoadBalancerNodePorts, loadBalancerClass, traffic
// policies and healthCheckNodePort; on update, cluster IPs and ipFamilies that change once set.

import { externallyAccessible, needsHealthCheck } from '../defaults.js';
import type { FieldError, FieldPath } from '../errors.js';
import { fieldErr } from '../errors.js';
import type { Service, ServicePort } from '../types.js';
import { validateLabels, validateObjectMeta } from './meta.js';
import {
  endpointIpErrors,
  INVALID_IP,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  nameIsDns1035Label,
  parseIpSloppy,
} from './names.js';

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const FAMILIES = ['IPv4', 'IPv6'];
const FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const MAX_AFFINITY_SECONDS = 86400;

export function isHeadless(svc: Service): boolean {
  return svc.spec.clusterIPs?.length === 1 && svc.spec.clusterIPs[0] === 'None';
}

export function isValidIp(path: FieldPath, ip: string): FieldError[] {
  return parseIpSloppy(ip) === undefined ? [fieldErr.invalid(path, ip, INVALID_IP)] : [];
}

function isValidCidr(path: FieldPath, v: string): FieldError[] {
  const slash = v.indexOf('/');
  const ok =
    slash > 0 &&
    parseIpSloppy(v.slice(0, slash)) !== undefined &&
    /^\d{1,3}$/.test(v.slice(slash + 1)) &&
    Number(v.slice(slash + 1)) <= (v.includes(':') ? 128 : 32);
  return ok ? [] : [fieldErr.invalid(path, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** `core.ServicePort{…}` as %#v prints the (protocol, port) key of a duplicate port. */
function goServicePortKey(p: ServicePort): { goRaw: string } {
  return {
    goRaw: `core.ServicePort{Name:"", Protocol:"${p.protocol ?? ''}", AppProtocol:(*string)(nil), Port:${p.port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  };
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) errs.push(fieldErr.required([...path, 'name']));
  else if (sp.name) {
    for (const m of isDns1123Label(sp.name)) errs.push(fieldErr.invalid([...path, 'name'], sp.name, m));
    if (names.has(sp.name)) errs.push(fieldErr.duplicate([...path, 'name'], sp.name));
    else names.add(sp.name);
  }
  for (const m of isValidPortNum(sp.port ?? 0)) errs.push(fieldErr.invalid([...path, 'port'], sp.port ?? 0, m));
  if (!sp.protocol) errs.push(fieldErr.required([...path, 'protocol']));
  else if (!(PROTOCOLS as readonly string[]).includes(sp.protocol)) {
    errs.push(fieldErr.notSupported([...path, 'protocol'], sp.protocol, PROTOCOLS));
  }
  const tp = sp.targetPort;
  if (typeof tp === 'number') {
    for (const m of isValidPortNum(tp)) errs.push(fieldErr.invalid([...path, 'targetPort'], tp, m));
  } else if (typeof tp === 'string') {
    for (const m of isValidPortName(tp)) errs.push(fieldErr.invalid([...path, 'targetPort'], tp, m));
  }
  if (sp.appProtocol !== undefined) {
    for (const m of isQualifiedName(sp.appProtocol)) {
      errs.push(fieldErr.invalid([...path, 'appProtocol'], sp.appProtocol, m));
    }
  }
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields, also run by the allocator before it allocates. */
export function validateClusterIPsRelated(svc: Service): FieldError[] {
  const spec = svc.spec;
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ipsPath = ['spec', 'clusterIPs'];
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(fieldErr.required(ipsPath));
    else if (ips[0] !== spec.clusterIP) errs.push(fieldErr.invalid(ipsPath, ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(fieldErr.invalid(ipsPath, ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!FAMILIES.includes(f)) errs.push(fieldErr.notSupported(['spec', 'ipFamilies', i], f, FAMILIES));
    if (seen.has(f)) errs.push(fieldErr.duplicate(['spec', 'ipFamilies', i], f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(fieldErr.notSupported(['spec', 'ipFamilyPolicy'], spec.ipFamilyPolicy, FAMILY_POLICIES));
  }
  let invalidIps = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        invalidIps = true;
        errs.push(fieldErr.invalid(ipsPath, ips, "'None' must be the first and only value"));
      }
      return;
    }
    const e = isValidIp([...ipsPath, i], ip);
    if (e.length > 0) invalidIps = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(fieldErr.invalid(ipsPath, ips, 'may only hold up to 2 values'));
  if (invalidIps) return errs;
  if (ips.length > 1) {
    const fams = ips.map((ip) => parseIpSloppy(ip)?.family);
    if (fams[0] === fams[1])
      errs.push(fieldErr.invalid(ipsPath, ips, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(svc) && ips.length > 0 && (spec.ipFamilies?.length ?? 0) > 0) {
    ips.forEach((ip, i) => {
      const fam = spec.ipFamilies?.[i];
      if (fam === undefined) return;
      const v6 = parseIpSloppy(ip)?.family === 6;
      if (fam === 'IPv4' && v6) {
        errs.push(fieldErr.invalid([...ipsPath, i], ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      }
      if (fam === 'IPv6' && !v6) {
        errs.push(fieldErr.invalid([...ipsPath, i], ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
      }
    });
  }
  return errs;
}

function validateSessionAffinity(svc: Service): FieldError[] {
  const spec = svc.spec;
  const path = ['spec', 'sessionAffinityConfig'];
  if (spec.sessionAffinity === 'ClientIP') {
    const detail = 'when session affinity type is ClientIP';
    const cfg = spec.sessionAffinityConfig;
    if (cfg === undefined) return [fieldErr.required(path, detail)];
    if (cfg.clientIP === undefined) return [fieldErr.required([...path, 'clientIP'], detail)];
    const t = cfg.clientIP.timeoutSeconds;
    if (t === undefined) return [fieldErr.required([...path, 'clientIP', 'timeoutSeconds'], detail)];
    if (t <= 0 || t > MAX_AFFINITY_SECONDS) {
      return [
        fieldErr.invalid(
          [...path, 'clientIP', 'timeoutSeconds'],
          t,
          `must be greater than 0 and less than ${MAX_AFFINITY_SECONDS}`,
        ),
      ];
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined) {
    return [fieldErr.forbidden(path, 'must not be set when session affinity is None')];
  }
  return [];
}

function validateTrafficPolicies(svc: Service): FieldError[] {
  const spec = svc.spec;
  const errs: FieldError[] = [];
  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy) {
      errs.push(
        fieldErr.invalid(
          ['spec', 'externalTrafficPolicy'],
          spec.externalTrafficPolicy,
          'may only be set for externally-accessible services',
        ),
      );
    }
  } else if (!spec.externalTrafficPolicy) errs.push(fieldErr.required(['spec', 'externalTrafficPolicy']));
  else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(fieldErr.notSupported(['spec', 'externalTrafficPolicy'], spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(svc)) {
    if (hc !== 0) {
      errs.push(
        fieldErr.invalid(
          ['spec', 'healthCheckNodePort'],
          hc,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    }
  } else if (hc === 0) errs.push(fieldErr.required(['spec', 'healthCheckNodePort']));
  else for (const m of isValidPortNum(hc)) errs.push(fieldErr.invalid(['spec', 'healthCheckNodePort'], hc, m));
  const itp = spec.internalTrafficPolicy;
  if (itp === undefined) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') {
      errs.push(fieldErr.required(['spec', 'internalTrafficPolicy']));
    }
  } else if (!TRAFFIC_POLICIES.includes(itp)) {
    errs.push(fieldErr.notSupported(['spec', 'internalTrafficPolicy'], itp, TRAFFIC_POLICIES));
  }
  return errs;
}

export function validateService(svc: Service): FieldError[] {
  const spec = svc.spec;
  const errs = validateObjectMeta(svc.metadata, true, nameIsDns1035Label);
  const ports = spec.ports ?? [];
  const headless = isHeadless(svc);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(fieldErr.required(['spec', 'ports']));
  switch (spec.type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) {
        errs.push(
          fieldErr.invalid(['spec', 'clusterIPs', 0], 'None', `may not be set to 'None' for ${spec.type} services`),
        );
      }
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs?.length ?? 0) > 0) {
        errs.push(fieldErr.forbidden(['spec', 'clusterIPs'], 'may not be set for ExternalName services'));
      }
      if ((spec.ipFamilies?.length ?? 0) > 0) {
        errs.push(fieldErr.forbidden(['spec', 'ipFamilies'], 'may not be set for ExternalName services'));
      }
      if (spec.ipFamilyPolicy !== undefined) {
        errs.push(fieldErr.forbidden(['spec', 'ipFamilyPolicy'], 'may not be set for ExternalName services'));
      }
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname.length > 0) {
        for (const m of isDns1123Subdomain(cname)) errs.push(fieldErr.invalid(['spec', 'externalName'], cname, m));
      } else errs.push(fieldErr.required(['spec', 'externalName']));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => {
    errs.push(...validateServicePort(p, ports.length > 1, names, ['spec', 'ports', i]));
  });
  if (spec.selector !== undefined) errs.push(...validateLabels(spec.selector, ['spec', 'selector']));
  if (!spec.sessionAffinity) errs.push(fieldErr.required(['spec', 'sessionAffinity']));
  else if (!AFFINITIES.includes(spec.sessionAffinity)) {
    errs.push(fieldErr.notSupported(['spec', 'sessionAffinity'], spec.sessionAffinity, AFFINITIES));
  }
  errs.push(...validateSessionAffinity(svc));
  errs.push(...validateClusterIPsRelated(svc));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const e = isValidIp(['spec', 'externalIPs', i], ip);
    if (e.length > 0) errs.push(...e);
    else for (const m of endpointIpErrors(ip)) errs.push(fieldErr.invalid(['spec', 'externalIPs', i], ip, m));
  });
  if (!spec.type) errs.push(fieldErr.required(['spec', 'type']));
  else if (!SERVICE_TYPES.includes(spec.type))
    errs.push(fieldErr.notSupported(['spec', 'type'], spec.type, SERVICE_TYPES));
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) {
        errs.push(fieldErr.forbidden(['spec', 'ports', i, 'nodePort'], "may not be used when `type` is 'ClusterIP'"));
      }
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(fieldErr.duplicate(['spec', 'ports', i, 'nodePort'], p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errs.push(fieldErr.duplicate(['spec', 'ports', i], goServicePortKey(p)));
    portKeys.add(key);
  });
  const ranges = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0) {
    const path = ['spec', 'LoadBalancerSourceRanges'];
    if (spec.type !== 'LoadBalancer') {
      errs.push(fieldErr.forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    }
    ranges.forEach((r, i) => {
      errs.push(...isValidCidr([...path, i], r.trim()));
    });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer') {
    errs.push(
      fieldErr.forbidden(['spec', 'allocateLoadBalancerNodePorts'], "may only be used when `type` is 'LoadBalancer'"),
    );
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) {
    errs.push(fieldErr.required(['allocateLoadBalancerNodePorts']));
  }
  if (spec.loadBalancerClass !== undefined) {
    if (spec.type === 'LoadBalancer') {
      for (const m of isQualifiedName(spec.loadBalancerClass)) {
        errs.push(fieldErr.invalid(['spec', 'loadBalancerClass'], spec.loadBalancerClass, m));
      }
    } else {
      errs.push(fieldErr.forbidden(['spec', 'loadBalancerClass'], "may only be used when `type` is 'LoadBalancer'"));
    }
  }
  errs.push(...validateTrafficPolicies(svc));
  return errs;
}

/** validateUpgradeDowngradeClusterIPs and the other update-only checks, then ValidateService. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs: FieldError[] = [];
  const ips = svc.spec.clusterIPs ?? [];
  const oldIps = old.spec.clusterIPs ?? [];
  const external = svc.spec.type === 'ExternalName' || old.spec.type === 'ExternalName';
  if (!external && !(isHeadless(svc) && isHeadless(old))) {
    if (oldIps.length === ips.length) {
      oldIps.forEach((ip, i) => {
        if (ip !== ips[i]) errs.push(fieldErr.invalid(['spec', 'clusterIPs', i], ips, 'may not change once set'));
      });
    } else if (oldIps.length > ips.length) {
      if (ips.length === 0)
        errs.push(fieldErr.invalid(['spec', 'clusterIPs', 0], ips, 'primary clusterIP can not be unset'));
      else if (ips[0] !== oldIps[0])
        errs.push(fieldErr.invalid(['spec', 'clusterIPs', 0], ips, 'may not change once set'));
    } else if (oldIps.length > 0 && ips[0] !== oldIps[0]) {
      errs.push(fieldErr.invalid(['spec', 'clusterIPs', 0], ips, 'may not change once set'));
    }
    const fams = svc.spec.ipFamilies ?? [];
    const oldFams = old.spec.ipFamilies ?? [];
    if (isHeadless(svc) === isHeadless(old) && !isHeadless(svc) && fams.length === oldFams.length) {
      oldFams.forEach((f, i) => {
        if (f !== fams[i]) {
          errs.push(
            fieldErr.invalid(['spec', 'ipFamilies', 0], { goRaw: goFamilies(fams) }, 'may not change once set'),
          );
        }
      });
    }
  }
  if (
    old.spec.type === 'LoadBalancer' &&
    svc.spec.type === 'LoadBalancer' &&
    old.spec.loadBalancerClass !== svc.spec.loadBalancerClass
  ) {
    errs.push(
      fieldErr.invalid(['spec', 'loadBalancerClass'], svc.spec.loadBalancerClass ?? null, 'may not change once set'),
    );
  }
  if (needsHealthCheck(old) && needsHealthCheck(svc) && old.spec.healthCheckNodePort !== svc.spec.healthCheckNodePort) {
    errs.push(fieldErr.forbidden(['spec', 'healthCheckNodePort'], 'field is immutable'));
  }
  return [...errs, ...validateService(svc)];
}

function goFamilies(f: readonly string[]): string {
  return `[]core.IPFamily{${f.map((x) => `"${x}"`).join(', ')}}`;
}
