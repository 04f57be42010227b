// KubeCluster end to end: kubectl-like apply results, all-or-nothing checking of a manifest, scale kept across
// re-applies, namespace deletion, the kubernetes Service's endpoint.

import { describe, expect, it } from 'vitest';
import { formatApplied } from '../../src/kube/index.js';
import { makeCluster, YAML } from './helpers.js';

const app = YAML`
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec: {containers: [{name: c, image: busybox}]}
`;

describe('KubeCluster', () => {
  it('applies a manifest like kubectl and reports each object; re-applying changes nothing', () => {
    const { cluster } = makeCluster();
    expect(cluster.applyManifest(app, 'app.yaml').map(formatApplied)).toEqual([
      'namespace/shop created',
      'deployment.apps/web created',
      'service/web created',
      'pod/client created',
    ]);
    const rv = cluster.store.resourceVersion;
    expect(cluster.applyManifest(app, 'app.yaml').map(formatApplied)).toEqual([
      'namespace/shop unchanged',
      'deployment.apps/web unchanged',
      'service/web unchanged',
      'pod/client unchanged',
    ]);
    expect(cluster.store.resourceVersion).toBe(rv);
  });

  it('a bad document stops the whole manifest before anything is applied', () => {
    const { cluster } = makeCluster();
    const bad = `${app}---\napiVersion: v1\nkind: Service\nmetadata: {name: Bad}\nspec: {ports: [{port: 80}]}\n`;
    expect(() => cluster.applyManifest(bad, 'app.yaml')).toThrow(
      /^Service "Bad" is invalid: metadata\.name: Invalid value: "Bad"/,
    );
    try {
      cluster.applyManifest(bad, 'app.yaml');
    } catch (e) {
      expect(String(e)).toMatch(/^app\.yaml:34:18: /);
    }
    expect(cluster.get('Namespace', undefined, 'shop')).toBeUndefined();
  });

  it('the manifest can keep the replica count kubectl scale set, and scale is a plain update', () => {
    const { cluster } = makeCluster();
    cluster.applyManifest(app.replace('  replicas: 2\n', ''), 'app.yaml');
    expect(cluster.list('Pod', 'shop', (p) => p.metadata.labels?.app === 'web')).toHaveLength(1);
    cluster.scale('shop/web', 3);
    cluster.applyManifest(app.replace('  replicas: 2\n', ''), 'app.yaml');
    expect(cluster.get('Deployment', 'shop', 'web')!.spec.replicas).toBe(3);
    expect(cluster.list('Pod', 'shop', (p) => p.metadata.labels?.app === 'web')).toHaveLength(3);
  });

  it('deleting a namespace deletes what is in it', () => {
    const { cluster } = makeCluster({ autoStop: true });
    cluster.applyManifest(app, 'app.yaml');
    const np = cluster.get('Service', 'shop', 'web')!.spec.ports![0]!.nodePort!;
    cluster.delete('Namespace', undefined, 'shop');
    for (const kind of ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'EndpointSlice'] as const) {
      expect(cluster.list(kind, 'shop')).toEqual([]);
    }
    expect(cluster.nodePorts.has(np)).toBe(false);
  });

  it('the API server address defaults to the first node and can be configured', () => {
    const { cluster } = makeCluster({ nodes: 2 });
    expect(cluster.apiServerAddress).toBe('192.168.0.11');
    expect(cluster.get('Endpoints', 'default', 'kubernetes')!.subsets).toEqual([
      { addresses: [{ ip: '192.168.0.11' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
    ]);
  });
});
