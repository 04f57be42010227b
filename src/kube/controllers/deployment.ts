// The Deployment controller (pkg/controller/deployment): each pod template gets a ReplicaSet named
// `<deployment>-<pod-template-hash>`, the hash a deterministic digest of the template (FNV-32a over its canonical
// JSON, encoded like rand.SafeEncodeString), carried as the pod-template-hash label on the ReplicaSet, its selector
// and its pods; the revision annotation counts templates. Going back to an earlier template reuses its ReplicaSet.
//  - RollingUpdate: the new ReplicaSet grows while all ReplicaSets together stay within replicas + maxSurge
//    (rounded up), the old ones shrink — unavailable pods first, then oldest ReplicaSet first — while available
//    pods stay at least replicas - maxUnavailable (rounded down; 1 when both are 0). Each step waits for the pods
//    it started to become ready (reported by the networking side), so a rollout advances as pods come up.
//  - Recreate: old ReplicaSets go to zero, the new one is scaled up once no old pod is left at all.
//  - Scaling with one ReplicaSet just resizes it; old ReplicaSets beyond revisionHistoryLimit that have no pods
//    are deleted. Status counts replicas, updated, ready, available and unavailable pods.
// Limits: no proportional scaling of several live ReplicaSets, no progress deadline or conditions, no pause,
// minReadySeconds 0 (available = ready); the hash differs from upstream's (which hashes Go's printing of the
// template), so names are stable within podwire, not equal to a real cluster's.

import { controllerRef, ownerRefTo } from '../pods.js';
import type { ApiStore } from '../store.js';
import type { Deployment, DeploymentStatus, PodTemplateSpec, ReplicaSet } from '../types.js';
import { ANNOTATION_REVISION, LABEL_POD_TEMPLATE_HASH } from '../types.js';
import { canonicalJson, clone, deepEqual, fnv32a, safeEncodeString } from '../util.js';

const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

/** ComputeHash: a short, name-safe digest of a pod template. */
export function podTemplateHash(t: PodTemplateSpec): string {
  return safeEncodeString(String(fnv32a(canonicalJson(t))));
}

/** GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const pct = Number(v.replace(/%$/, ''));
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: maxSurge (rounded up) and maxUnavailable (rounded down), never both zero. */
export function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return { surge: 0, unavailable: replicas };
  const ru = d.spec.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge ?? '25%', replicas, true);
  let unavailable = scaledValue(ru?.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

const revision = (rs: ReplicaSet): number => Number(rs.metadata.annotations?.[ANNOTATION_REVISION] ?? 0);
const specReplicas = (rs: ReplicaSet): number => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet): number => rs.status?.availableReplicas ?? 0;
const sum = (rss: readonly ReplicaSet[], f: (rs: ReplicaSet) => number): number => rss.reduce((a, r) => a + f(r), 0);

export class DeploymentController {
  private readonly unwatch: (() => void)[] = [];

  constructor(private readonly store: ApiStore) {}

  start(): void {
    const fromRs = (rs: ReplicaSet | undefined) => {
      const ref = rs === undefined ? undefined : controllerRef(rs);
      if (ref?.kind === 'Deployment') this.sync(rs!.metadata.namespace ?? 'default', ref.name);
    };
    this.unwatch.push(
      this.store.watch('Deployment', (ev) => {
        if (ev.type !== 'DELETED') this.sync(ev.object.metadata.namespace ?? 'default', ev.object.metadata.name);
      }),
      this.store.watch('ReplicaSet', (ev) => fromRs(ev.object)),
      // Recreate waits for old pods to be gone: their disappearance is only visible on the pods.
      this.store.watch('Pod', (ev) => {
        if (ev.type !== 'DELETED') return;
        const ref = controllerRef(ev.object);
        if (ref?.kind === 'ReplicaSet') fromRs(this.store.get('ReplicaSet', ev.object.metadata.namespace, ref.name));
      }),
    );
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  private replicaSets(d: Deployment): ReplicaSet[] {
    return this.store
      .list('ReplicaSet', d.metadata.namespace, (rs) => controllerRef(rs)?.uid === d.metadata.uid)
      .sort((a, b) => this.store.creationOrder(a) - this.store.creationOrder(b));
  }

  sync(namespace: string, name: string): void {
    const d = this.store.get('Deployment', namespace, name);
    if (d === undefined || d.metadata.deletionTimestamp !== undefined) return;
    const all = this.replicaSets(d);
    const hash = podTemplateHash(d.spec.template);
    let newRS = all.find((rs) => rs.metadata.labels?.[LABEL_POD_TEMPLATE_HASH] === hash);
    const olds = all.filter((rs) => rs !== newRS);
    if (d.spec.strategy?.type === 'Recreate') newRS = this.rolloutRecreate(d, newRS, olds, hash);
    else newRS = this.rolloutRolling(d, newRS, olds, hash);
    this.cleanup(d, olds);
    this.syncStatus(namespace, name, hash);
  }

  private rolloutRolling(d: Deployment, found: ReplicaSet | undefined, olds: ReplicaSet[], hash: string): ReplicaSet {
    const newRS = found !== undefined ? this.syncRevision(found, olds) : this.createNewRS(d, olds, hash, true);
    const replicas = d.spec.replicas ?? 1;
    const { surge, unavailable } = fenceposts(d);
    // reconcileNewReplicaSet
    const current = sum([...olds, newRS], specReplicas);
    if (specReplicas(newRS) > replicas) {
      this.scale(newRS, replicas, d);
      return newRS;
    }
    if (specReplicas(newRS) < replicas) {
      const maxTotal = replicas + surge;
      if (current < maxTotal) {
        const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
        if (up > 0) {
          this.scale(newRS, specReplicas(newRS) + up, d);
          return newRS;
        }
      }
    }
    // reconcileOldReplicaSets
    const activeOlds = olds.filter((rs) => specReplicas(rs) > 0);
    if (activeOlds.length === 0) return newRS;
    const minAvailable = replicas - unavailable;
    const newUnavailable = specReplicas(newRS) - available(newRS);
    let maxScaledDown = sum([...olds, newRS], specReplicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return newRS;
    // cleanupUnhealthyReplicas: pods that are not available go first.
    let changed = false;
    for (const rs of activeOlds) {
      if (maxScaledDown <= 0) break;
      const unhealthy = specReplicas(rs) - available(rs);
      if (unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown, unhealthy);
      this.scale(rs, specReplicas(rs) - down, d);
      maxScaledDown -= down;
      changed = true;
    }
    if (changed) return newRS;
    // scaleDownOldReplicaSetsForRollingUpdate
    const availablePods = sum([...olds, newRS], available);
    if (availablePods <= minAvailable) return newRS;
    let total = availablePods - minAvailable;
    for (const rs of activeOlds) {
      if (total <= 0) break;
      const down = Math.min(specReplicas(rs), total);
      this.scale(rs, specReplicas(rs) - down, d);
      total -= down;
    }
    return newRS;
  }

  private rolloutRecreate(
    d: Deployment,
    found: ReplicaSet | undefined,
    olds: ReplicaSet[],
    hash: string,
  ): ReplicaSet | undefined {
    let down = false;
    for (const rs of olds) {
      if (specReplicas(rs) > 0) {
        this.scale(rs, 0, d);
        down = true;
      }
    }
    if (down) return found;
    const oldUids = new Set(olds.map((rs) => rs.metadata.uid));
    const oldPods = this.store.list(
      'Pod',
      d.metadata.namespace,
      (p) => oldUids.has(controllerRef(p)?.uid) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
    );
    if (sum(olds, (rs) => rs.status?.replicas ?? 0) > 0 || oldPods.length > 0) return found;
    const newRS = found !== undefined ? this.syncRevision(found, olds) : this.createNewRS(d, olds, hash, false);
    if (specReplicas(newRS) !== (d.spec.replicas ?? 1)) this.scale(newRS, d.spec.replicas ?? 1, d);
    return newRS;
  }

  /** An existing ReplicaSet becoming current again (a rollback) gets the next revision. */
  private syncRevision(rs: ReplicaSet, olds: readonly ReplicaSet[]): ReplicaSet {
    const maxOld = Math.max(0, ...olds.map(revision));
    if (revision(rs) > maxOld) return rs;
    const next = clone(rs);
    next.metadata.annotations = { ...next.metadata.annotations, [ANNOTATION_REVISION]: String(maxOld + 1) };
    return this.store.update(next).object;
  }

  private createNewRS(d: Deployment, olds: readonly ReplicaSet[], hash: string, rolling: boolean): ReplicaSet {
    const replicas = d.spec.replicas ?? 1;
    const template = clone(d.spec.template);
    template.metadata = {
      ...template.metadata,
      labels: { ...template.metadata?.labels, [LABEL_POD_TEMPLATE_HASH]: hash },
    };
    const selector = clone(d.spec.selector);
    selector.matchLabels = { ...selector.matchLabels, [LABEL_POD_TEMPLATE_HASH]: hash };
    let initial = replicas;
    if (rolling) {
      const { surge } = fenceposts(d);
      const current = sum(olds, specReplicas);
      initial = Math.max(0, Math.min(replicas + surge - current, replicas));
    }
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        annotations: {
          [DESIRED]: String(replicas),
          [MAX_REPLICAS]: String(replicas + fenceposts(d).surge),
          [ANNOTATION_REVISION]: String(Math.max(0, ...olds.map(revision)) + 1),
        },
        ownerReferences: [ownerRefTo(d)],
      },
      spec: { replicas: initial, selector, template },
    };
    return this.store.create(rs);
  }

  private scale(rs: ReplicaSet, replicas: number, d: Deployment): void {
    const live = this.store.get('ReplicaSet', rs.metadata.namespace, rs.metadata.name);
    if (live === undefined) return;
    const desired = String(d.spec.replicas ?? 1);
    const max = String((d.spec.replicas ?? 1) + fenceposts(d).surge);
    const ann = live.metadata.annotations ?? {};
    if (live.spec.replicas === replicas && ann[DESIRED] === desired && ann[MAX_REPLICAS] === max) return;
    const next = clone(live);
    next.spec.replicas = replicas;
    next.metadata.annotations = { ...ann, [DESIRED]: desired, [MAX_REPLICAS]: max };
    this.store.update(next);
  }

  /** Old ReplicaSets with no pods left, beyond revisionHistoryLimit, oldest first, are deleted. */
  private cleanup(d: Deployment, olds: readonly ReplicaSet[]): void {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = olds.filter((rs) => {
      const live = this.store.get('ReplicaSet', rs.metadata.namespace, rs.metadata.name);
      return live !== undefined && specReplicas(live) === 0 && (live.status?.replicas ?? 0) === 0;
    });
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.store.delete('ReplicaSet', rs.metadata.namespace, rs.metadata.name);
    }
  }

  private syncStatus(namespace: string, name: string, hash: string): void {
    const d = this.store.get('Deployment', namespace, name);
    if (d === undefined) return;
    const all = this.replicaSets(d);
    const newRS = all.find((rs) => rs.metadata.labels?.[LABEL_POD_TEMPLATE_HASH] === hash);
    const availableNow = sum(all, available);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation,
      replicas: sum(all, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: availableNow,
      unavailableReplicas: Math.max(0, (d.spec.replicas ?? 1) - availableNow),
    };
    const rev = newRS?.metadata.annotations?.[ANNOTATION_REVISION];
    const sameRev = rev === undefined || d.metadata.annotations?.[ANNOTATION_REVISION] === rev;
    if (deepEqual(status, d.status) && sameRev) return;
    const next = clone(d);
    next.status = status;
    if (rev !== undefined) next.metadata.annotations = { ...next.metadata.annotations, [ANNOTATION_REVISION]: rev };
    this.store.writeStatus(next);
  }
}
