// A load-balancer provider for LoadBalancer Services, as MetalLB's controller behaves with one address pool: a
// Service of type LoadBalancer gets spec.loadBalancerIP when it asks for one, else the lowest free address of the
// pool, published in status.loadBalancer.ingress (what kube-proxy reads); the address goes back to the pool when
// the Service is deleted or stops being a LoadBalancer (its ingress is then cleared). Without a pool only requested
// addresses are honoured; other LoadBalancer Services stay pending, with no ingress, as on a cluster without a
// provider. Getting packets for the address to a node (MetalLB's ARP or BGP speaker) is left to the scenario: a
// route on the client, for instance.
// Limits: one pool; no loadBalancerClass filtering; ipMode is left unset (VIP).

import type { KubeCluster, Service } from '../kube/index.js';
import { type Cidr, formatIpv4, parseIpv4 } from '../wire/addr.js';

export class LoadBalancerController {
  /** Address → Service key. */
  private readonly taken = new Map<string, string>();

  constructor(
    private readonly api: KubeCluster,
    private readonly pool: Cidr | undefined,
  ) {}

  start(): void {
    for (const s of this.api.list('Service')) this.sync(s);
    this.api.watch('Service', (ev) => {
      if (ev.type === 'DELETED') this.release(key(ev.object));
      else this.sync(ev.object);
    });
  }

  private release(k: string): void {
    for (const [ip, owner] of this.taken) if (owner === k) this.taken.delete(ip);
  }

  private allocate(k: string): string | undefined {
    for (const [ip, owner] of this.taken) if (owner === k) return ip;
    if (this.pool === undefined) return undefined;
    const size = 2 ** (32 - this.pool.len);
    const base = this.pool.len === 0 ? 0 : (this.pool.addr & (~0 << (32 - this.pool.len))) >>> 0;
    for (let i = 0; i < size; i++) {
      const ip = formatIpv4((base + i) >>> 0);
      if (!this.taken.has(ip)) {
        this.taken.set(ip, k);
        return ip;
      }
    }
    return undefined;
  }

  private sync(svc: Service): void {
    const k = key(svc);
    const current = svc.status?.loadBalancer?.ingress ?? [];
    if (svc.spec.type !== 'LoadBalancer') {
      this.release(k);
      if (current.length > 0) this.write(svc, []);
      return;
    }
    const asked = svc.spec.loadBalancerIP;
    let ip: string | undefined;
    if (asked !== undefined && parseIpv4(asked) !== null) {
      const owner = this.taken.get(asked);
      if (owner !== undefined && owner !== k) return; // in use: the Service stays pending, as MetalLB leaves it
      this.release(k);
      this.taken.set(asked, k);
      ip = asked;
    } else {
      ip = this.allocate(k);
    }
    if (ip === undefined) return;
    if (current.length === 1 && current[0]!.ip === ip) return;
    this.write(svc, [{ ip }]);
  }

  private write(svc: Service, ingress: { ip: string }[]): void {
    const next: Service = { ...svc, status: { ...svc.status, loadBalancer: { ingress } } };
    this.api.store.writeStatus(next);
  }
}

function key(svc: Service): string {
  return `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
}
