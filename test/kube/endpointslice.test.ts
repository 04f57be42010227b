// EndpointSlices as kube-proxy will read them: named target ports, readiness, terminating pods,
// publishNotReadyAddresses, topology fields, slice sizes, and Endpoints mirrored for selectorless Services.

import { describe, expect, it } from 'vitest';
import type { EndpointSlice, KubeCluster, Pod } from '../../src/kube/index.js';
import { makeCluster, YAML } from './helpers.js';

function slicesOf(cluster: KubeCluster, svc: string, ns = 'default'): EndpointSlice[] {
  return cluster.list('EndpointSlice', ns, (s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
}

/** `ip:port ready/serving/terminating` lines of a Service's slices, sorted. */
function endpoints(cluster: KubeCluster, svc: string): string[] {
  const out: string[] = [];
  for (const s of slicesOf(cluster, svc)) {
    const ports = (s.ports ?? []).map((p) => `${p.name || '-'}=${p.port}`).join(',');
    for (const e of s.endpoints) {
      const c = e.conditions ?? {};
      out.push(`${e.addresses.join(',')} [${ports}] r=${c.ready} s=${c.serving} t=${c.terminating}`);
    }
  }
  return out.sort();
}

const pod = (
  name: string,
  labels: Record<string, string>,
  ports: { name?: string; containerPort: number }[],
  extra = '',
) =>
  YAML`
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
${extra}spec:
  containers:
  - name: c
    image: img
    ports: ${JSON.stringify(ports)}
---
`;

describe('EndpointSlice controller', () => {
  it("labels, owner and name of a Service's slice; a placeholder while there are no endpoints", () => {
    const { cluster } = makeCluster({ nodes: 1, autoStart: false });
    cluster.applyManifest(
      'apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {tier: front}}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
      's.yaml',
    );
    const [slice, ...rest] = slicesOf(cluster, 'web');
    expect(rest).toHaveLength(0);
    expect(slice!.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice!.metadata.labels).toEqual({
      tier: 'front',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    expect(slice!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
    expect(slice!.endpoints).toEqual([]);
    expect(slice!.ports).toEqual([]);
  });

  it('resolves named target ports per pod; pods without the name are left out of that port', () => {
    const { cluster } = makeCluster({ nodes: 2 });
    cluster.applyManifest(
      pod('a', { app: 'web' }, [
        { name: 'http', containerPort: 8080 },
        { name: 'metrics', containerPort: 9090 },
      ]) +
        pod('b', { app: 'web' }, [{ name: 'http', containerPort: 8081 }]) +
        pod('c', { app: 'web' }, [{ name: 'other', containerPort: 7000 }]) +
        YAML`
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: metrics, port: 9100, targetPort: metrics}
`,
      'app.yaml',
    );
    const ip = (n: string) => cluster.pod(`default/${n}`)!.status!.podIP!;
    expect(endpoints(cluster, 'web')).toEqual(
      [
        `${ip('a')} [http=8080,metrics=9090] r=true s=true t=false`,
        `${ip('b')} [http=8081] r=true s=true t=false`,
        `${ip('c')} [] r=true s=true t=false`,
      ].sort(),
    );
    expect(slicesOf(cluster, 'web')).toHaveLength(3);
  });

  it('an unready pod is ready=false serving=false; publishNotReadyAddresses makes it ready', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    cluster.applyManifest(
      pod('a', { app: 'web' }, [{ containerPort: 80 }]) +
        pod('b', { app: 'web' }, [{ containerPort: 80 }], '  annotations: {podwire.io/ready: "false"}\n') +
        'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
      'app.yaml',
    );
    const ipA = cluster.pod('default/a')!.status!.podIP;
    const ipB = cluster.pod('default/b')!.status!.podIP;
    expect(cluster.pod('default/b')!.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });
    expect(endpoints(cluster, 'web')).toEqual(
      [`${ipA} [-=80] r=true s=true t=false`, `${ipB} [-=80] r=false s=false t=false`].sort(),
    );
    // The probe starts passing: the annotation goes, the endpoint becomes ready.
    cluster.setPodReady('default/b', undefined);
    expect(endpoints(cluster, 'web')).toContain(`${ipB} [-=80] r=true s=true t=false`);
    cluster.setPodReady('default/a', false);
    cluster.applyManifest(
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}], publishNotReadyAddresses: true}\n',
      'svc.yaml',
    );
    expect(endpoints(cluster, 'web')).toContain(`${ipA} [-=80] r=true s=false t=false`);
  });

  it('terminating pods stay, terminating=true and serving per readiness, until the sandbox is gone', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    cluster.applyManifest(
      pod('a', { app: 'web' }, [{ containerPort: 80 }]) +
        'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
      'app.yaml',
    );
    const ip = cluster.pod('default/a')!.status!.podIP;
    cluster.deletePod('default/a');
    expect(cluster.pod('default/a')!.metadata.deletionTimestamp).toBe('1970-01-01T00:00:30Z');
    expect(endpoints(cluster, 'web')).toEqual([`${ip} [-=80] r=false s=true t=true`]);
    cluster.podStopped('default/a');
    expect(cluster.pod('default/a')).toBeUndefined();
    expect(endpoints(cluster, 'web')).toEqual([]);
    expect(slicesOf(cluster, 'web')).toHaveLength(1); // the placeholder
  });

  it('nodeName, zone from the node label, hostname when the subdomain names the Service', () => {
    const { cluster } = makeCluster({ nodes: 2, zones: ['zone-a', 'zone-b'] });
    cluster.applyManifest(
      YAML`
apiVersion: v1
kind: Pod
metadata: {name: db-0, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  nodeName: node2
  containers: [{name: c, image: i}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
`,
      'db.yaml',
    );
    const [slice] = slicesOf(cluster, 'db');
    expect(slice!.metadata.labels?.['service.kubernetes.io/headless']).toBe('');
    expect(slice!.endpoints[0]).toMatchObject({ hostname: 'db-0', nodeName: 'node2', zone: 'zone-b' });
    expect(slice!.endpoints[0]!.targetRef).toMatchObject({ kind: 'Pod', namespace: 'default', name: 'db-0' });
  });

  it('at most 100 endpoints a slice; changes update slices in place', () => {
    const { cluster } = makeCluster({ nodes: 3, autoStop: true });
    cluster.applyManifest(
      YAML`
apiVersion: apps/v1
kind: Deployment
metadata: {name: big}
spec:
  replicas: 150
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Service
metadata: {name: big}
spec: {selector: {app: big}, ports: [{port: 80}]}
`,
      'big.yaml',
    );
    const sizes = slicesOf(cluster, 'big')
      .map((s) => s.endpoints.length)
      .sort((a, b) => b - a);
    expect(sizes).toEqual([100, 50]);
    const names = slicesOf(cluster, 'big').map((s) => s.metadata.name);
    cluster.scale('default/big', 120);
    const after = slicesOf(cluster, 'big');
    expect(after.map((s) => s.metadata.name)).toEqual(names);
    expect(after.reduce((n, s) => n + s.endpoints.length, 0)).toBe(120);
  });

  it('a selectorless Service with hand-written Endpoints is mirrored into a slice', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    cluster.applyManifest(
      YAML`
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext, labels: {team: data}}
subsets:
- addresses: [{ip: 192.168.10.5, hostname: pg1}]
  notReadyAddresses: [{ip: 192.168.10.6}]
  ports: [{name: pg, port: 5432}]
`,
      'ext.yaml',
    );
    const [slice, ...rest] = slicesOf(cluster, 'ext');
    expect(rest).toHaveLength(0);
    expect(slice!.metadata.labels).toEqual({
      team: 'data',
      'kubernetes.io/service-name': 'ext',
      'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
    });
    expect(slice!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Endpoints', name: 'ext' });
    expect(slice!.ports).toEqual([{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    expect(slice!.endpoints).toEqual([
      { addresses: ['192.168.10.5'], conditions: { ready: true }, hostname: 'pg1' },
      { addresses: ['192.168.10.6'], conditions: { ready: false } },
    ]);
    // Giving the Service a selector stops the mirroring; the endpoints controller takes over.
    cluster.applyManifest(
      'apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {selector: {app: pg}, ports: [{name: pg, port: 5432}]}\n',
      'ext.yaml',
    );
    const now = slicesOf(cluster, 'ext');
    expect(now.map((s) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'])).toEqual([
      'endpointslice-controller.k8s.io',
    ]);
    // Deleting the Service removes its slices (garbage collection by owner).
    cluster.delete('Service', 'default', 'ext');
    expect(slicesOf(cluster, 'ext')).toEqual([]);
  });

  it('follows label changes of pods', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    cluster.applyManifest(
      pod('a', { app: 'web' }, [{ containerPort: 80 }]) +
        'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
      'app.yaml',
    );
    expect(endpoints(cluster, 'web')).toHaveLength(1);
    cluster.applyManifest(pod('a', { app: 'other' }, [{ containerPort: 80 }]), 'app.yaml');
    expect(endpoints(cluster, 'web')).toEqual([]);
    const p = cluster.pod('default/a') as Pod;
    expect(p.metadata.labels).toEqual({ app: 'other' });
  });
});
