// ClusterIP and NodePort allocation: upstream's static/dynamic bands, determinism per seed, refusals worded as the
// API server words them, transactions that give back what a failed create took, and no address handed out twice.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AllocationError,
  ApiError,
  ClusterIpAllocator,
  ipRangeOffset,
  NodePortAllocator,
  portRangeOffset,
  type Service,
} from '../../src/kube/index.js';
import { Rng } from '../../src/sim/rng.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { makeCluster } from './helpers.js';

const ipNum = (ip: string): number => parseIpv4(ip)!;

describe('ClusterIP allocation', () => {
  it('sizes the static band as upstream: min(max(16, size/16), 256)', () => {
    expect(ipRangeOffset(16)).toBe(0);
    expect(ipRangeOffset(256)).toBe(16);
    expect(ipRangeOffset(4096)).toBe(256);
    expect(ipRangeOffset(2 ** 20)).toBe(256);
    expect(new ClusterIpAllocator('10.96.0.0/12', new Rng(1)).staticBand).toBe(256);
  });

  it('hands out addresses from the upper band first, deterministically per seed', () => {
    const take = (seed: number) => {
      const a = new ClusterIpAllocator('10.96.0.0/24', new Rng(seed));
      return Array.from({ length: 20 }, () => a.allocateNext());
    };
    const first = take(7);
    expect(take(7)).toEqual(first);
    expect(take(8)).not.toEqual(first);
    // /24: 254 usable, the lowest 16 (10.96.0.1 - 10.96.0.16) are the static band.
    for (const ip of first) expect(ipNum(ip)).toBeGreaterThan(ipNum('10.96.0.16'));
    expect(new Set(first).size).toBe(20);
  });

  it('falls back to the static band when the upper band is full', () => {
    const a = new ClusterIpAllocator('10.0.0.0/27', new Rng(3)); // 30 usable, band of 16
    const got = Array.from({ length: 30 }, () => a.allocateNext());
    expect(new Set(got).size).toBe(30);
    const upper = got.slice(0, 14);
    expect(upper.every((ip) => ipNum(ip) > ipNum('10.0.0.16'))).toBe(true);
    expect(() => a.allocateNext()).toThrow(new AllocationError('range is full'));
  });

  it('refuses taken and out-of-range addresses with upstream wording; releases', () => {
    const a = new ClusterIpAllocator('10.96.0.0/12', new Rng(1));
    a.allocate('10.96.0.10');
    expect(() => a.allocate('10.96.0.10')).toThrow('provided IP is already allocated');
    expect(() => a.allocate('10.112.0.1')).toThrow(
      'the provided IP (10.112.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    expect(() => a.allocate('10.96.0.0')).toThrow(/not in the valid range/);
    expect(() => a.allocate('10.111.255.255')).toThrow(/not in the valid range/);
    a.release('10.96.0.10');
    expect(() => a.allocate('10.96.0.10')).not.toThrow();
  });

  it('never hands out an address twice, whatever the sequence of operations', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(
          fc.oneof(
            fc.constant<'next'>('next'),
            fc.nat(40).map((n) => ({ release: n })),
          ),
          { maxLength: 120 },
        ),
        (seed, ops) => {
          const a = new ClusterIpAllocator('10.1.0.0/26', new Rng(seed)); // 62 addresses
          const held: string[] = [];
          for (const op of ops) {
            if (op === 'next') {
              if (held.length === 62) {
                expect(() => a.allocateNext()).toThrow('range is full');
                continue;
              }
              const ip = a.allocateNext();
              expect(held).not.toContain(ip);
              held.push(ip);
            } else if (held.length > 0) {
              const [ip] = held.splice(op.release % held.length, 1);
              a.release(ip!);
            }
            expect(a.used).toBe(held.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('NodePort allocation', () => {
  it('static band min(max(16, size/32), 128): 86 ports for 30000-32767', () => {
    expect(portRangeOffset(2768)).toBe(86);
    expect(portRangeOffset(100)).toBe(16);
    expect(portRangeOffset(10000)).toBe(128);
    const a = new NodePortAllocator('30000-32767', new Rng(5));
    for (let i = 0; i < 50; i++) expect(a.allocateNext()).toBeGreaterThanOrEqual(30086);
  });

  it('refuses taken and out-of-range ports with upstream wording', () => {
    const a = new NodePortAllocator('30000-32767', new Rng(5));
    a.allocate(30080);
    expect(() => a.allocate(30080)).toThrow('provided port is already allocated');
    expect(() => a.allocate(80)).toThrow(
      'provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
  });

  it('never hands out a port twice', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.nat(300), { maxLength: 60 }), (seed, wanted) => {
        const a = new NodePortAllocator('30000-30099', new Rng(seed));
        const held = new Set<number>();
        for (const w of wanted) {
          const port = 30000 + (w % 100);
          if (w % 3 === 0 && !held.has(port)) {
            a.allocate(port);
            held.add(port);
          } else if (held.size < 100) {
            const p = a.allocateNext();
            expect(held.has(p)).toBe(false);
            held.add(p);
          }
        }
        expect(a.used).toBe(held.size);
      }),
    );
  });
});

describe('Service allocation through the API', () => {
  const svc = (name: string, spec: Service['spec']): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ...spec },
  });

  it('the kubernetes Service has the first address and port 443 to the API server on 6443', () => {
    const { cluster } = makeCluster({ nodes: 2 });
    const k = cluster.get('Service', 'default', 'kubernetes')!;
    expect(k.spec.clusterIP).toBe('10.96.0.1');
    expect(k.spec.ports).toEqual([{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }]);
    const slice = cluster.get('EndpointSlice', 'default', 'kubernetes')!;
    expect(slice.endpoints.map((e) => e.addresses[0])).toEqual(['192.168.0.11']);
    expect(slice.ports).toEqual([{ name: 'https', port: 6443, protocol: 'TCP' }]);
  });

  it('same seed, same addresses and node ports', () => {
    const run = () => {
      const { cluster } = makeCluster({ seed: 42, nodes: 1 });
      const a = cluster.apply(svc('a', { type: 'NodePort', ports: [{ port: 80 }] })).object as Service;
      const b = cluster.apply(svc('b', { ports: [{ port: 80 }] })).object as Service;
      return [a.spec.clusterIP, a.spec.ports![0]!.nodePort, b.spec.clusterIP];
    };
    expect(run()).toEqual(run());
    const [ipA, np] = run();
    expect(ipNum(ipA as string)).toBeGreaterThan(ipNum('10.96.1.0')); // past the 256-address static band
    expect(np).toBeGreaterThanOrEqual(30086);
  });

  it("conflicts give the API server's messages; a failed create allocates nothing", () => {
    const { cluster } = makeCluster({ nodes: 1 });
    cluster.apply(svc('a', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] }));
    const fail = (s: Service) => {
      try {
        cluster.apply(s);
      } catch (e) {
        if (e instanceof ApiError) return e.message;
        throw e;
      }
      return 'no error';
    };
    expect(fail(svc('b', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }))).toBe(
      'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    expect(fail(svc('c', { clusterIP: '192.168.1.1', ports: [{ port: 80 }] }))).toBe(
      'Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.1.1"}: failed to allocate IP 192.168.1.1: ' +
        'the provided IP (192.168.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    expect(fail(svc('d', { type: 'NodePort', clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080 }] }))).toBe(
      'Service "d" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    // d's cluster IP was released when its node port failed.
    expect(cluster.clusterIPs.has('10.96.0.11')).toBe(false);
    expect(fail(svc('e', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }))).toBe(
      'Service "e" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    // A validation failure after allocation gives back what was allocated.
    const before = cluster.clusterIPs.used;
    expect(fail(svc('f', { type: 'NodePort', ports: [{ port: 80 }, { port: 81 }] }))).toMatch(/Required value/);
    expect(cluster.clusterIPs.used).toBe(before);
  });

  it('LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort; same port numbers share a node port', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    const lb = cluster.apply(
      svc('dns', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        ports: [
          { name: 'dns-udp', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      }),
    ).object as Service;
    const [udp, tcp] = lb.spec.ports!;
    expect(udp!.nodePort).toBe(tcp!.nodePort);
    expect(lb.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(lb.spec.healthCheckNodePort).not.toBe(udp!.nodePort);
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    expect(cluster.nodePorts.has(lb.spec.healthCheckNodePort!)).toBe(true);
    // Deleting the Service releases all three.
    cluster.delete('Service', 'default', 'dns');
    expect(cluster.nodePorts.has(udp!.nodePort!)).toBe(false);
    expect(cluster.nodePorts.has(lb.spec.healthCheckNodePort!)).toBe(false);
  });

  it('re-applying keeps allocations; changing type releases or allocates what it must', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    const first = cluster.apply(svc('web', { type: 'NodePort', ports: [{ port: 80 }] }));
    const s1 = first.object as Service;
    const again = cluster.apply(svc('web', { type: 'NodePort', ports: [{ port: 80 }] }));
    expect(again.action).toBe('unchanged');
    const toClusterIP = cluster.apply(svc('web', { ports: [{ port: 80 }] }));
    expect(toClusterIP.action).toBe('configured');
    const s2 = toClusterIP.object as Service;
    expect(s2.spec.clusterIP).toBe(s1.spec.clusterIP);
    expect(s2.spec.ports![0]!.nodePort).toBeUndefined();
    expect(cluster.nodePorts.has(s1.spec.ports![0]!.nodePort!)).toBe(false);
    const ext = cluster.apply(svc('web', { type: 'ExternalName', externalName: 'example.com' })).object as Service;
    expect(ext.spec.clusterIP).toBeUndefined();
    expect(cluster.clusterIPs.has(s1.spec.clusterIP!)).toBe(false);
  });
});
