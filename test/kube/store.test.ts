// The API store's bookkeeping and watch semantics, a pod's lifecycle as the networking side sees it, and the
// scheduler's filters and Unschedulable message.

import { describe, expect, it } from 'vitest';
import type { Namespace, Service, WatchEvent } from '../../src/kube/index.js';
import { ApiError, ApiStore, podKey, WatchHandlerError } from '../../src/kube/index.js';
import { Rng } from '../../src/sim/rng.js';
import { makeCluster, YAML } from './helpers.js';

const ns = (name: string): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const svc = (name: string, port = 80): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ port }] },
});

describe('ApiStore', () => {
  it('numbers writes, names generateName objects, freezes what it stores', () => {
    const store = new ApiStore({ rng: new Rng(1) });
    const a = store.create(ns('default'));
    expect(a.metadata.resourceVersion).toBe('1');
    expect(a.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'default' });
    const s = store.create<Service>({ ...svc(''), metadata: { name: '', generateName: 'web-', namespace: 'default' } });
    expect(s.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(Number(s.metadata.resourceVersion)).toBe(2);
    expect(Object.isFrozen(s.spec.ports![0])).toBe(true);
    expect(() => store.create(svc(s.metadata.name))).toThrow(`services "${s.metadata.name}" already exists`);
    expect(() => store.delete('Service', 'default', 'nope')).toThrow(
      new ApiError('NotFound', 'services "nope" not found'),
    );
  });

  it('delivers ADDED, MODIFIED, DELETED in order; an update that changes nothing makes no event', () => {
    const store = new ApiStore({ rng: new Rng(1) });
    store.create(ns('default'));
    const seen: string[] = [];
    store.watch('Service', (ev) =>
      seen.push(`${ev.type} ${ev.object.spec.ports![0]!.port} rv=${ev.object.metadata.resourceVersion}`),
    );
    store.apply(svc('web'));
    expect(store.apply(svc('web')).action).toBe('unchanged');
    store.apply(svc('web', 81));
    store.delete('Service', 'default', 'web');
    expect(seen).toEqual(['ADDED 80 rv=2', 'MODIFIED 81 rv=3', 'DELETED 81 rv=4']);
  });

  it('events raised by a watcher come after the current event has reached every watcher', () => {
    const store = new ApiStore({ rng: new Rng(1) });
    store.create(ns('default'));
    const log: string[] = [];
    // A "controller" that reacts to web by creating web-shadow.
    store.watch('Service', (ev) => {
      log.push(`A ${ev.type} ${ev.object.metadata.name}`);
      if (ev.type === 'ADDED' && ev.object.metadata.name === 'web') store.create(svc('web-shadow'));
    });
    store.watch('Service', (ev) => log.push(`B ${ev.type} ${ev.object.metadata.name}`));
    store.watch('*', (ev: WatchEvent) => log.push(`* ${ev.type} ${ev.object.kind}`));
    store.apply(svc('web'));
    expect(log).toEqual([
      'A ADDED web',
      'B ADDED web',
      '* ADDED Service',
      'A ADDED web-shadow',
      'B ADDED web-shadow',
      '* ADDED Service',
    ]);
  });

  it('a failing watcher does not stop delivery; its error comes out wrapped', () => {
    const store = new ApiStore({ rng: new Rng(1) });
    store.create(ns('default'));
    const got: string[] = [];
    store.watch('Service', () => {
      throw new Error('boom');
    });
    store.watch('Service', (ev) => got.push(ev.object.metadata.name));
    expect(() => store.apply(svc('web'))).toThrow(new WatchHandlerError(new Error('boom')));
    expect(got).toEqual(['web']);
    expect(store.get('Service', 'default', 'web')).toBeDefined();
  });

  it("a pod's life as the networking side sees it", () => {
    const { cluster } = makeCluster({ nodes: 1, autoStart: false });
    const events: string[] = [];
    cluster.watch('Pod', (ev) => {
      const p = ev.object;
      events.push(
        `${ev.type} node=${p.spec.nodeName ?? '-'} phase=${p.status?.phase} ip=${p.status?.podIP ?? '-'}${p.metadata.deletionTimestamp ? ' terminating' : ''}`,
      );
    });
    cluster.applyManifest(
      YAML`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: i}]}
`,
      'p.yaml',
    );
    cluster.podStarted('default/p', '10.244.1.5');
    cluster.deletePod('default/p');
    cluster.podStopped('default/p');
    expect(events).toEqual([
      'ADDED node=- phase=Pending ip=-',
      'MODIFIED node=node1 phase=Pending ip=-',
      'MODIFIED node=node1 phase=Running ip=10.244.1.5',
      'MODIFIED node=node1 phase=Running ip=10.244.1.5 terminating',
      'DELETED node=node1 phase=Running ip=10.244.1.5 terminating',
    ]);
    expect(() => cluster.podStarted('default/p', '10.244.1.5')).toThrow('pods "p" not found');
  });
});

describe('scheduler', () => {
  it('honours nodeName, nodeSelector and taints; unschedulable pods stay Pending with a reason', () => {
    const { cluster } = makeCluster({ nodes: 0, autoStart: false });
    cluster.addNode({
      name: 'cp',
      address: '192.168.0.10',
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
    });
    cluster.addNode({ name: 'w1', address: '192.168.0.11', labels: { disk: 'ssd' } });
    cluster.addNode({ name: 'w2', address: '192.168.0.12' });
    cluster.cordon('w2');
    const pod = (name: string, spec: string) => YAML`
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
${spec}  containers: [{name: c, image: i}]
---
`;
    cluster.applyManifest(
      pod('any', '') +
        pod('pinned', '  nodeName: w2\n') +
        pod('hdd', '  nodeSelector: {disk: hdd}\n') +
        pod(
          'tolerant',
          '  nodeSelector: {kubernetes.io/hostname: cp}\n  tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]\n',
        ),
      'pods.yaml',
    );
    const node = (n: string) => cluster.pod(`default/${n}`)!.spec.nodeName;
    expect(node('any')).toBe('w1');
    expect(node('pinned')).toBe('w2'); // a named node runs the pod even when cordoned
    expect(node('tolerant')).toBe('cp');
    const hdd = cluster.pod('default/hdd')!;
    expect(hdd.spec.nodeName).toBeUndefined();
    expect(hdd.status?.phase).toBe('Pending');
    expect(hdd.status?.conditions).toEqual([
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message:
          "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable.",
        lastTransitionTime: '1970-01-01T00:00:00Z',
      },
    ]);
    // A node that fits appears: the pending pod is scheduled.
    cluster.addNode({ name: 'w3', address: '192.168.0.13', labels: { disk: 'hdd' } });
    expect(node('hdd')).toBe('w3');
    expect(podKey(cluster.pod('default/hdd')!)).toBe('default/hdd');
  });
});
