// What the Service REST storage does around the allocators (pkg/registry/core/service/storage/alloc.go): on
// create, settle the IP family fields for a single-stack IPv4 cluster (initIPFamilyFields: RequireDualStack and
// IPv6 are refused with upstream's messages), allocate the cluster IP (the one asked for, or the next free one),
// node ports for NodePort and LoadBalancer Services (ports with the same port number share one node port, a
// LoadBalancer with allocateLoadBalancerNodePorts=false only gets the ones asked for) and the health check node
// port for LoadBalancer + externalTrafficPolicy Local; on update, allocate what the new spec needs and release what
// it no longer uses once the update commits. Every step is a transaction: a later failure (validation) reverts
// what was allocated. Refusals come back as the API errors kubectl prints, e.g. `Service "web" is invalid:
// spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already
// allocated`.
// Limits: single-stack IPv4; a headless Service without selector gets SingleStack [IPv4] where upstream picks
// RequireDualStack (which a single-stack cluster then serves with IPv4 only anyway).

import { needsHealthCheck } from '../defaults.js';
import type { ApiError, FieldError } from '../errors.js';
import { fieldErr, internalError, invalidError } from '../errors.js';
import type { Service } from '../types.js';
import { parseIpSloppy } from '../validate/names.js';
import { validateClusterIPsRelated } from '../validate/service.js';
import type { ClusterIpAllocator } from './clusterip.js';
import { AllocationError } from './clusterip.js';
import type { NodePortAllocator } from './nodeport.js';

export interface AllocTxn {
  /** Makes the change final: releases what the old object held and the new one does not. */
  commit(): void;
  /** Undoes every allocation of the transaction. */
  revert(): void;
}

function needsClusterIP(svc: Service): boolean {
  return svc.spec.type !== 'ExternalName';
}

export function needsNodePorts(svc: Service): boolean {
  return svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer';
}

function shouldAllocateNodePorts(svc: Service): boolean {
  if (svc.spec.type === 'NodePort') return true;
  return svc.spec.type === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false;
}

function headless(svc: Service): boolean {
  return svc.spec.clusterIPs?.[0] === 'None';
}

/** The node ports a Service holds (each once). */
export function serviceNodePorts(svc: Service): number[] {
  const out = new Set<number>();
  for (const p of svc.spec.ports ?? []) if (p.nodePort) out.add(p.nodePort);
  return [...out];
}

class Operation implements AllocTxn {
  private ips: string[] = [];
  private ports: number[] = [];
  private releaseIps: string[] = [];
  private releasePorts: number[] = [];

  constructor(
    private readonly ipAlloc: ClusterIpAllocator,
    private readonly portAlloc: NodePortAllocator,
  ) {}

  allocateIp(ip: string): void {
    this.ipAlloc.allocate(ip);
    this.ips.push(ip);
  }

  allocateNextIp(): string {
    const ip = this.ipAlloc.allocateNext();
    this.ips.push(ip);
    return ip;
  }

  allocatePort(p: number): void {
    this.portAlloc.allocate(p);
    this.ports.push(p);
  }

  allocateNextPort(): number {
    const p = this.portAlloc.allocateNext();
    this.ports.push(p);
    return p;
  }

  deferReleaseIp(ip: string): void {
    this.releaseIps.push(ip);
  }

  deferReleasePort(p: number): void {
    this.releasePorts.push(p);
  }

  commit(): void {
    for (const ip of this.releaseIps) this.ipAlloc.release(ip);
    for (const p of this.releasePorts) this.portAlloc.release(p);
    this.ips = [];
    this.ports = [];
  }

  revert(): void {
    for (const ip of this.ips) this.ipAlloc.release(ip);
    for (const p of this.ports) this.portAlloc.release(p);
    this.ips = [];
    this.ports = [];
  }
}

export class ServiceAllocator {
  constructor(
    readonly ips: ClusterIpAllocator,
    readonly ports: NodePortAllocator,
  ) {}

  /** initIPFamilyFields on a single-stack IPv4 cluster; `old` supplies the policy an update left out. */
  private initFamilies(svc: Service, old: Service | undefined): void {
    const spec = svc.spec;
    if (spec.type === 'ExternalName') return;
    if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = old?.spec.ipFamilyPolicy ?? 'SingleStack';
    const pre = validateClusterIPsRelated(svc);
    if (pre.length > 0) throw invalidError('Service', svc.metadata.name, pre);
    const errs: FieldError[] = [];
    const policy = spec.ipFamilyPolicy;
    if (policy === 'SingleStack') {
      if (spec.clusterIPs?.length === 2) {
        errs.push(
          fieldErr.invalid(
            ['spec', 'ipFamilyPolicy'],
            policy,
            "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
          ),
        );
      }
      if (spec.ipFamilies?.length === 2) {
        errs.push(
          fieldErr.invalid(
            ['spec', 'ipFamilyPolicy'],
            policy,
            "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
          ),
        );
      }
    }
    const families = [...(spec.ipFamilies ?? [])];
    for (const [i, ip] of (spec.clusterIPs ?? []).entries()) {
      if (ip === 'None') break;
      if (i < families.length) continue;
      const fam = parseIpSloppy(ip)?.family === 6 ? 'IPv6' : 'IPv4';
      if (fam === 'IPv6') {
        errs.push(
          fieldErr.invalid(['spec', 'clusterIPs', i], spec.clusterIPs, 'IPv6 is not configured on this cluster'),
        );
      } else families.push(fam);
    }
    if (errs.length > 0) throw invalidError('Service', svc.metadata.name, errs);
    spec.ipFamilies = families;
    if (spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0) {
      if (families.length === 0) spec.ipFamilies = ['IPv4'];
      return;
    }
    if (policy === 'RequireDualStack') {
      errs.push(
        fieldErr.invalid(['spec', 'ipFamilyPolicy'], policy, 'this cluster is not configured for dual-stack services'),
      );
    }
    families.forEach((f, i) => {
      if (f !== 'IPv4') errs.push(fieldErr.invalid(['spec', 'ipFamilies', i], f, 'not configured on this cluster'));
    });
    if (errs.length > 0) throw invalidError('Service', svc.metadata.name, errs);
    if (families.length === 0) spec.ipFamilies = ['IPv4'];
  }

  private allocClusterIP(svc: Service, op: Operation): void {
    if (!needsClusterIP(svc) || headless(svc)) return;
    const want = svc.spec.clusterIPs?.[0] ?? '';
    if (want === '') {
      let ip: string;
      try {
        ip = op.allocateNextIp();
      } catch (e) {
        throw internalError(`failed to allocate a serviceIP: ${(e as Error).message}`);
      }
      svc.spec.clusterIP = ip;
      svc.spec.clusterIPs = [ip];
      return;
    }
    try {
      op.allocateIp(want);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw invalidError('Service', svc.metadata.name, [
        fieldErr.invalid(['spec', 'clusterIPs'], svc.spec.clusterIPs, `failed to allocate IP ${want}: ${e.message}`),
      ]);
    }
  }

  private nodePortRefused(svc: Service, i: number, port: number, e: unknown): ApiError {
    if (!(e instanceof AllocationError)) throw e;
    return invalidError('Service', svc.metadata.name, [
      fieldErr.invalid(['spec', 'ports', i, 'nodePort'], port, e.message),
    ]);
  }

  private nextNodePort(op: Operation): number {
    try {
      return op.allocateNextPort();
    } catch (e) {
      throw internalError(`failed to allocate a nodePort: ${(e as Error).message}`);
    }
  }

  /** initNodePorts: ports with the same number share one node port; explicit requests are honoured first. */
  private initNodePorts(svc: Service, op: Operation): void {
    const byPort = new Map<number, number>();
    const ports = svc.spec.ports ?? [];
    ports.forEach((sp, i) => {
      if (!sp.nodePort && !shouldAllocateNodePorts(svc)) return;
      const have = byPort.get(sp.port);
      if (have === undefined) {
        const np = ports.find((p) => p.port === sp.port && p.nodePort)?.nodePort ?? 0;
        if (np !== 0) {
          try {
            op.allocatePort(np);
          } catch (e) {
            throw this.nodePortRefused(svc, i, np, e);
          }
          sp.nodePort = np;
          byPort.set(sp.port, np);
        } else {
          const np2 = this.nextNodePort(op);
          sp.nodePort = np2;
          byPort.set(sp.port, np2);
        }
      } else if (sp.nodePort !== have) {
        if (!sp.nodePort) sp.nodePort = have;
        else {
          try {
            op.allocatePort(sp.nodePort);
          } catch (e) {
            throw this.nodePortRefused(svc, i, sp.nodePort, e);
          }
        }
      }
    });
  }

  private allocHealthCheck(svc: Service, op: Operation): void {
    const hc = svc.spec.healthCheckNodePort ?? 0;
    if (hc !== 0) {
      try {
        op.allocatePort(hc);
      } catch (e) {
        throw internalError(`failed to allocate requested HealthCheck NodePort ${hc}: ${(e as Error).message}`);
      }
    } else {
      try {
        svc.spec.healthCheckNodePort = op.allocateNextPort();
      } catch (e) {
        throw internalError(`failed to allocate a HealthCheck NodePort 0: ${(e as Error).message}`);
      }
    }
  }

  /** Allocates everything a new Service needs, filling in clusterIP(s), ipFamilies, node ports. */
  allocateCreate(svc: Service): AllocTxn {
    const op = new Operation(this.ips, this.ports);
    try {
      this.initFamilies(svc, undefined);
      this.allocClusterIP(svc, op);
      if (needsNodePorts(svc)) this.initNodePorts(svc, op);
      if (needsHealthCheck(svc)) this.allocHealthCheck(svc, op);
    } catch (e) {
      op.revert();
      throw e;
    }
    return op;
  }

  /** Allocates what an update adds; what it drops is released on commit. */
  allocateUpdate(svc: Service, old: Service): AllocTxn {
    const op = new Operation(this.ips, this.ports);
    try {
      this.initFamilies(svc, old);
      if (!needsClusterIP(old) && needsClusterIP(svc)) this.allocClusterIP(svc, op);
      else if (needsClusterIP(old) && !needsClusterIP(svc) && !headless(old)) {
        for (const ip of old.spec.clusterIPs ?? []) op.deferReleaseIp(ip);
      }
      const oldPorts = needsNodePorts(old) ? serviceNodePorts(old) : [];
      if (needsNodePorts(svc)) {
        const taken = new Set<number>();
        (svc.spec.ports ?? []).forEach((sp, i) => {
          if (!sp.nodePort && !shouldAllocateNodePorts(svc)) return;
          if (sp.nodePort) {
            if (!oldPorts.includes(sp.nodePort) && !taken.has(sp.nodePort)) {
              try {
                op.allocatePort(sp.nodePort);
              } catch (e) {
                throw this.nodePortRefused(svc, i, sp.nodePort, e);
              }
              taken.add(sp.nodePort);
            }
          } else sp.nodePort = this.nextNodePort(op);
        });
      }
      const newPorts = needsNodePorts(svc) ? serviceNodePorts(svc) : [];
      for (const p of oldPorts) if (!newPorts.includes(p)) op.deferReleasePort(p);
      const hadHc = needsHealthCheck(old);
      const needsHc = needsHealthCheck(svc);
      if (!hadHc && needsHc) this.allocHealthCheck(svc, op);
      else if (hadHc && !needsHc) {
        if (old.spec.healthCheckNodePort) op.deferReleasePort(old.spec.healthCheckNodePort);
        delete svc.spec.healthCheckNodePort;
      }
    } catch (e) {
      op.revert();
      throw e;
    }
    return op;
  }

  /** Frees everything a deleted Service held. */
  release(svc: Service): void {
    if (needsClusterIP(svc) && !headless(svc)) for (const ip of svc.spec.clusterIPs ?? []) this.ips.release(ip);
    if (needsNodePorts(svc)) for (const p of serviceNodePorts(svc)) this.ports.release(p);
    if (needsHealthCheck(svc) && svc.spec.healthCheckNodePort) this.ports.release(svc.spec.healthCheckNodePort);
  }
}
