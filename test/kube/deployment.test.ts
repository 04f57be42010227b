// Deployments: ReplicaSet and pod naming, spreading, scaling and which pods go first, rolling and Recreate
// rollouts driven by pods becoming ready, drain, and cascading deletion.

import { describe, expect, it } from 'vitest';
import type { KubeCluster, Pod } from '../../src/kube/index.js';
import { isPodReady, podKey } from '../../src/kube/index.js';
import { makeCluster, YAML } from './helpers.js';

const deployment = (replicas: number, image = 'nginx:1.25', strategy = '') => YAML`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
${strategy}  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "${image}", ports: [{containerPort: 80}]}]
`;

const live = (c: KubeCluster): Pod[] => c.list('Pod', 'default', (p) => !p.metadata.deletionTimestamp);

describe('Deployment controller', () => {
  it('creates a ReplicaSet <deploy>-<hash> and pods <deploy>-<hash>-<5> labelled with the hash', () => {
    const { cluster } = makeCluster();
    cluster.applyManifest(deployment(3), 'd.yaml');
    const [rs, ...more] = cluster.list('ReplicaSet', 'default');
    expect(more).toHaveLength(0);
    const hash = rs!.metadata.labels!['pod-template-hash']!;
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    const pods = live(cluster);
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: rs!.metadata.name });
    }
    // Spread one per node, all running and ready; the Deployment's status says so.
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(3);
    expect(pods.every(isPodReady)).toBe(true);
    expect(cluster.get('Deployment', 'default', 'web')!.status).toEqual({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
    });
  });

  it('names are the same for the same seed', () => {
    const names = (seed: number) => {
      const { cluster } = makeCluster({ seed });
      cluster.applyManifest(deployment(4), 'd.yaml');
      return live(cluster).map((p) => `${p.metadata.name}@${p.spec.nodeName}`);
    };
    expect(names(11)).toEqual(names(11));
    expect(names(11)).not.toEqual(names(12));
  });

  it('scales up and down; scale-down removes unscheduled, then pending, then unready pods, then the newest', () => {
    const { cluster } = makeCluster({ nodes: 2, autoStart: false });
    cluster.applyManifest(deployment(2), 'd.yaml');
    const [a, b] = live(cluster);
    cluster.podStarted(podKey(a!), '10.244.1.10');
    cluster.podStarted(podKey(b!), '10.244.2.10');
    cluster.scale('default/web', 5);
    const added = live(cluster).filter(
      (p) => p !== undefined && ![a, b].some((x) => x!.metadata.name === p.metadata.name),
    );
    expect(added).toHaveLength(3);
    // One new pod starts ready, one starts unready, one stays pending.
    cluster.podStarted(podKey(added[0]!), '10.244.1.11');
    cluster.setPodReady(podKey(added[1]!), false);
    cluster.podStarted(podKey(added[1]!), '10.244.2.11');
    const pending = added[2]!;
    cluster.scale('default/web', 3);
    const gone = cluster
      .list('Pod', 'default', (p) => !!p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name)
      .concat(cluster.pod(podKey(pending)) === undefined ? [pending.metadata.name] : []);
    // The pending pod (no IP) went at once, the unready one is terminating.
    expect(gone.sort()).toEqual([added[1]!.metadata.name, pending.metadata.name].sort());
    expect(cluster.pod(podKey(pending))).toBeUndefined();
    cluster.scale('default/web', 2);
    // Among ready pods on the same nodes the newest goes first.
    const terminating = cluster
      .list('Pod', 'default', (p) => !!p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name);
    expect(terminating).toContain(added[0]!.metadata.name);
    expect(
      live(cluster)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual([a!.metadata.name, b!.metadata.name].sort());
  });

  it('scale-down prefers pods on crowded nodes', () => {
    const { cluster } = makeCluster({ nodes: 2 });
    cluster.cordon('node2');
    cluster.applyManifest(deployment(3), 'd.yaml'); // all on node1 while node2 is cordoned
    expect(live(cluster).every((p) => p.spec.nodeName === 'node1')).toBe(true);
    cluster.uncordon('node2');
    cluster.scale('default/web', 4); // this one lands on node2
    const onNode2 = live(cluster).filter((p) => p.spec.nodeName === 'node2');
    expect(onNode2).toHaveLength(1);
    cluster.scale('default/web', 3);
    // Though it is the newest, the node2 pod stays: node1 is crowded.
    expect(live(cluster).map((p) => p.metadata.name)).toContain(onNode2[0]!.metadata.name);
  });

  it('rolls out a new template: surge and unavailability bounds, old ReplicaSet scaled to zero', () => {
    const { cluster } = makeCluster({ nodes: 3, autoStart: false });
    const startAll = () => {
      for (const p of cluster.list('Pod', 'default', (p) => !!p.spec.nodeName && !p.status?.podIP)) {
        cluster.podStarted(podKey(p), `10.244.0.${cluster.list('Pod').indexOf(p) + 2}`);
      }
    };
    const stopAll = () => {
      for (const p of cluster.list('Pod', 'default', (p) => !!p.metadata.deletionTimestamp))
        cluster.podStopped(podKey(p));
    };
    cluster.applyManifest(deployment(4), 'd.yaml');
    startAll();
    const [oldRs] = cluster.list('ReplicaSet', 'default');
    cluster.applyManifest(deployment(4, 'nginx:1.26'), 'd.yaml');
    const d = cluster.get('Deployment', 'default', 'web')!;
    expect(d.metadata.generation).toBe(2);
    const sets = () =>
      Object.fromEntries(cluster.list('ReplicaSet', 'default').map((rs) => [rs.metadata.name, rs.spec.replicas]));
    const newRs = cluster.list('ReplicaSet', 'default').find((rs) => rs.metadata.name !== oldRs!.metadata.name)!;
    // maxSurge 25% of 4 = 1 up, maxUnavailable 25% = 1 down.
    expect(sets()).toEqual({ [oldRs!.metadata.name]: 3, [newRs.metadata.name]: 2 });
    expect(newRs.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    for (let i = 0; i < 10; i++) {
      startAll();
      stopAll();
    }
    expect(sets()).toEqual({ [oldRs!.metadata.name]: 0, [newRs.metadata.name]: 4 });
    expect(
      live(cluster).every(
        (p) => p.metadata.labels?.['pod-template-hash'] === newRs.metadata.labels!['pod-template-hash'],
      ),
    ).toBe(true);
    expect(
      cluster.get('Deployment', 'default', 'web')!.metadata.annotations?.['deployment.kubernetes.io/revision'],
    ).toBe('2');
    // Going back to the first template reuses its ReplicaSet, with the next revision.
    cluster.applyManifest(deployment(4), 'd.yaml');
    for (let i = 0; i < 10; i++) {
      startAll();
      stopAll();
    }
    expect(sets()).toEqual({ [oldRs!.metadata.name]: 4, [newRs.metadata.name]: 0 });
    expect(
      cluster.get('ReplicaSet', 'default', oldRs!.metadata.name)!.metadata.annotations?.[
        'deployment.kubernetes.io/revision'
      ],
    ).toBe('3');
  });

  it('Recreate scales the old ReplicaSet down and waits until its pods are gone', () => {
    const { cluster } = makeCluster({ nodes: 2 });
    const recreate = '  strategy: {type: Recreate}\n';
    cluster.applyManifest(deployment(2, 'a:1', recreate), 'd.yaml');
    cluster.applyManifest(deployment(2, 'a:2', recreate), 'd.yaml');
    const rss = cluster.list('ReplicaSet', 'default');
    expect(rss.map((rs) => rs.spec.replicas)).toEqual([0]);
    expect(cluster.list('Pod', 'default').every((p) => p.metadata.deletionTimestamp !== undefined)).toBe(true);
    for (const p of cluster.list('Pod', 'default')) cluster.podStopped(podKey(p));
    expect(cluster.list('ReplicaSet', 'default').map((rs) => rs.spec.replicas)).toEqual([0, 2]);
    expect(live(cluster).map((p) => p.spec.containers[0]!.image)).toEqual(['a:2', 'a:2']);
  });

  it('drain evicts pods; the ReplicaSet replaces them on other nodes', () => {
    const { cluster } = makeCluster({ nodes: 3, autoStop: true });
    cluster.applyManifest(deployment(3), 'd.yaml');
    const before = live(cluster)
      .filter((p) => p.spec.nodeName === 'node2')
      .map(podKey);
    expect(before).toHaveLength(1);
    const evicted = cluster.drain('node2');
    expect(evicted).toEqual(before);
    expect(cluster.get('Node', undefined, 'node2')!.spec.unschedulable).toBe(true);
    const pods = live(cluster);
    expect(pods).toHaveLength(3);
    expect(pods.some((p) => p.spec.nodeName === 'node2')).toBe(false);
    expect(pods.every((p) => p.status?.phase === 'Running')).toBe(true);
    // Deleting the Deployment takes its ReplicaSets and pods with it.
    cluster.delete('Deployment', 'default', 'web');
    expect(cluster.list('ReplicaSet', 'default')).toEqual([]);
    expect(cluster.list('Pod', 'default')).toEqual([]);
  });

  it('deleting a Node removes its pods and none of their replacements lands on it', () => {
    const { cluster } = makeCluster({ nodes: 3, autoStop: true });
    cluster.applyManifest(deployment(3), 'd.yaml');
    const gone = live(cluster)
      .filter((p) => p.spec.nodeName === 'node2')
      .map(podKey);
    expect(gone).toHaveLength(1);
    cluster.delete('Node', undefined, 'node2');
    expect(cluster.get('Node', undefined, 'node2')).toBeUndefined();
    const pods = cluster.list('Pod', 'default');
    expect(pods.map(podKey)).not.toContain(gone[0]);
    expect(pods.some((p) => p.spec.nodeName === 'node2')).toBe(false);
    expect(live(cluster)).toHaveLength(3);
  });

  it('drain refuses pods no controller would recreate, as kubectl does without --force', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    cluster.applyManifest(
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bare}\nspec: {containers: [{name: c, image: i}]}\n',
      'p.yaml',
    );
    expect(() => cluster.drain('node1')).toThrow(
      'cannot delete Pods that declare no controller (use --force to override): default/bare',
    );
    expect(cluster.drain('node1', { force: true })).toEqual(['default/bare']);
  });
});
