// The ReplicaSet controller (pkg/controller/replicaset): keeps `spec.replicas` active pods (not terminal, not being
// deleted) owned by each ReplicaSet. Missing pods are created from the template, named `<replicaset>-<5 random>`
// with the template's labels and an owner reference; surplus pods are deleted in the order of ranking.ts
// (unscheduled, pending, unready, crowded, newest first). Deletion is graceful (the pod terminates until the
// networking side reports it stopped), and a terminating pod no longer counts, so its replacement is created at
// once. Status reports replicas, fully labelled, ready and available (= ready) replicas and the observed generation.
// Limits: no adoption or release of pods by label (ownership is by owner reference only); no burst limits or
// expectations (everything is synchronous).

import { controllerRef, isPodActive, isPodReady, ownerRefTo } from '../pods.js';
import { matchesSelector } from '../selectors.js';
import type { ApiStore } from '../store.js';
import type { Pod, ReplicaSet, ReplicaSetStatus } from '../types.js';
import { clone, deepEqual, namePrefix } from '../util.js';
import type { Kubelet } from './kubelet.js';
import { rankForDeletion } from './ranking.js';

export class ReplicaSetController {
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: ApiStore,
    private readonly kubelet: Kubelet,
  ) {}

  start(): void {
    this.unwatch.push(
      this.store.watch('ReplicaSet', (ev) => {
        if (ev.type !== 'DELETED') this.sync(ev.object.metadata.namespace ?? 'default', ev.object.metadata.name);
      }),
      this.store.watch('Pod', (ev) => {
        for (const p of [ev.object, ev.oldObject]) {
          const ref = p === undefined ? undefined : controllerRef(p);
          if (ref?.kind === 'ReplicaSet') this.sync(p!.metadata.namespace ?? 'default', ref.name);
        }
      }),
    );
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  private ownedPods(rs: ReplicaSet): Pod[] {
    return this.store.list('Pod', rs.metadata.namespace, (p) => controllerRef(p)?.uid === rs.metadata.uid);
  }

  /** The active pods of every ReplicaSet of the same Deployment (getIndirectlyRelatedPods). */
  private relatedPods(rs: ReplicaSet): Pod[] {
    const owner = controllerRef(rs)?.uid;
    if (owner === undefined) return this.ownedPods(rs);
    const siblings = new Set(
      this.store
        .list('ReplicaSet', rs.metadata.namespace, (r) => controllerRef(r)?.uid === owner)
        .map((r) => r.metadata.uid),
    );
    return this.store.list('Pod', rs.metadata.namespace, (p) => siblings.has(controllerRef(p)?.uid));
  }

  sync(namespace: string, name: string): void {
    const rs = this.store.get('ReplicaSet', namespace, name);
    if (rs === undefined || rs.metadata.deletionTimestamp !== undefined) return;
    const active = this.ownedPods(rs).filter(isPodActive);
    const want = rs.spec.replicas ?? 1;
    if (active.length < want) {
      for (let i = active.length; i < want; i++) this.createPod(rs);
    } else if (active.length > want) {
      const order = (p: Pod) => this.store.creationOrder(p);
      const victims = rankForDeletion(active, this.relatedPods(rs), order).slice(0, active.length - want);
      for (const p of victims) this.kubelet.deletePod(namespace, p.metadata.name);
    }
    this.updateStatus(namespace, name);
  }

  private createPod(rs: ReplicaSet): void {
    const t = rs.spec.template;
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: '',
        generateName: namePrefix(rs.metadata.name),
        namespace: rs.metadata.namespace,
        labels: { ...t.metadata?.labels },
        ownerReferences: [ownerRefTo(rs)],
      },
      spec: clone(t.spec),
    };
    if (t.metadata?.annotations) pod.metadata.annotations = { ...t.metadata.annotations };
    this.store.create(pod);
  }

  private updateStatus(namespace: string, name: string): void {
    const rs = this.store.get('ReplicaSet', namespace, name);
    if (rs === undefined) return;
    const active = this.ownedPods(rs).filter(isPodActive);
    const ready = active.filter(isPodReady).length;
    const status: ReplicaSetStatus = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => matchesSelector(rs.spec.selector, p.metadata.labels)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    if (deepEqual(status, rs.status)) return;
    const next = clone(rs);
    next.status = status;
    this.store.writeStatus(next);
  }
}
