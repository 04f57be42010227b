// The garbage collector's background cascading deletion: when an object goes, everything whose ownerReferences
// name its uid goes too (a Deployment takes its ReplicaSets, they take their pods; a Service its EndpointSlices,
// Endpoints their mirrored slices). Pods are deleted gracefully through the kubelet, so they terminate rather than
// vanish. A Namespace takes every object in it.
// Limits: no foreground deletion or orphaning; objects with several owners go when any owner goes.

import type { ApiStore } from '../store.js';
import type { Kind, KubeObject } from '../types.js';
import type { Kubelet } from './kubelet.js';

const NAMESPACED: readonly Kind[] = ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'Endpoints', 'EndpointSlice'];

export class GarbageCollector {
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: ApiStore,
    private readonly kubelet: Kubelet,
  ) {}

  start(): void {
    this.unwatch = this.store.watch('*', (ev) => {
      if (ev.type === 'DELETED') this.collect(ev.object);
    });
  }

  stop(): void {
    this.unwatch?.();
  }

  /** Deletes `obj` the way a client's DELETE would: pods gracefully, the rest at once. */
  deleteObject(kind: Kind, namespace: string | undefined, name: string): void {
    if (this.store.get(kind, namespace, name) === undefined) return;
    if (kind === 'Pod') this.kubelet.deletePod(namespace ?? 'default', name);
    else this.store.delete(kind, namespace, name);
  }

  private collect(owner: KubeObject): void {
    if (owner.kind === 'Namespace') {
      for (const kind of NAMESPACED) {
        for (const o of this.store.list(kind, owner.metadata.name))
          this.deleteObject(kind, o.metadata.namespace, o.metadata.name);
      }
      return;
    }
    const uid = owner.metadata.uid;
    if (uid === undefined || !(['Deployment', 'ReplicaSet', 'Service', 'Endpoints'] as Kind[]).includes(owner.kind))
      return;
    for (const kind of NAMESPACED) {
      const owned = this.store.list(kind, owner.metadata.namespace, (o) =>
        (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid),
      );
      for (const o of owned) this.deleteObject(kind, o.metadata.namespace, o.metadata.name);
    }
  }
}
