// A small kube-scheduler: pods without spec.nodeName (and not being deleted) are bound to a node in creation order.
// Filtering follows the default plugins that matter here: NodeUnschedulable (cordoned nodes), TaintToleration
// (NoSchedule and NoExecute taints the pod does not tolerate) and NodeAffinity (nodeSelector). Among the nodes left,
// the one with the fewest pods of the same controller wins, then the one with the fewest pods at all (the spreading
// that NodeResourcesFit's least-allocated scoring and the default topology spread give); ties are broken at random
// from the seeded Rng, as selectHost does. A pod that fits nowhere stays Pending with PodScheduled=False, reason
// Unschedulable and upstream's message, e.g. `0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s)
// didn't match Pod's node affinity/selector.`; it is retried whenever a node is added or changes.
// Pods that name their node are not scheduled (the kubelet of that node runs them, even when it is cordoned).
// Limits: no resources or capacity, no affinity, no preemption, no PreferNoSchedule scoring; NoExecute taints do
// not evict running pods.

import type { Rng } from '../../sim/rng.js';
import { controllerRef, isPodTerminal } from '../pods.js';
import type { ApiStore } from '../store.js';
import type { Node, Pod, PodCondition, Toleration } from '../types.js';
import { clone } from '../util.js';

type Taint = NonNullable<Node['spec']['taints']>[number];

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return (t.key ?? '') === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** The first NoSchedule/NoExecute taint of `node` the pod does not tolerate. */
export function untoleratedTaint(pod: Pod, node: Node): Taint | undefined {
  return (node.spec.taints ?? []).find(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') &&
      !(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint)),
  );
}

/** Why `node` cannot take `pod` (the filter plugins' reasons), or undefined when it can. */
export function filterNode(pod: Pod, node: Node): string | undefined {
  if (node.spec.unschedulable) return 'node(s) were unschedulable';
  const taint = untoleratedTaint(pod, node);
  if (taint !== undefined) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) {
    if (node.metadata.labels?.[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  return undefined;
}

export class Scheduler {
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: ApiStore,
    private readonly rng: Rng,
  ) {}

  start(): void {
    this.unwatch.push(
      this.store.watch('Pod', (ev) => {
        if (ev.type !== 'DELETED') this.schedule(ev.object);
      }),
      this.store.watch('Node', (ev) => {
        if (ev.type !== 'DELETED') this.schedulePending();
      }),
    );
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  /** Retries every unscheduled pod, oldest first. */
  schedulePending(): void {
    for (const pod of this.store.list('Pod')) this.schedule(pod);
  }

  private needsScheduling(pod: Pod): boolean {
    return !pod.spec.nodeName && pod.metadata.deletionTimestamp === undefined && !isPodTerminal(pod);
  }

  schedule(input: Pod): void {
    const pod = this.store.get('Pod', input.metadata.namespace, input.metadata.name);
    if (pod === undefined || !this.needsScheduling(pod)) return;
    const nodes = this.store.list('Node');
    const reasons = new Map<string, number>();
    const fit: Node[] = [];
    for (const n of nodes) {
      const why = filterNode(pod, n);
      if (why === undefined) fit.push(n);
      else reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    if (fit.length === 0) {
      const detail = [...reasons.entries()].map(([why, n]) => `${n} ${why}`).sort();
      const message = `0/${nodes.length} nodes are available${detail.length > 0 ? `: ${detail.join(', ')}` : ''}.`;
      this.setScheduled(pod, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message });
      return;
    }
    const owner = controllerRef(pod)?.uid;
    const score = (n: Node): [number, number] => {
      const on = this.store.list('Pod', undefined, (p) => p.spec.nodeName === n.metadata.name && !isPodTerminal(p));
      const same = owner === undefined ? 0 : on.filter((p) => controllerRef(p)?.uid === owner).length;
      return [same, on.length];
    };
    let best: Node[] = [];
    let bestScore: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    for (const n of fit) {
      const s = score(n);
      const cmp = s[0] - bestScore[0] || s[1] - bestScore[1];
      if (cmp < 0) {
        best = [n];
        bestScore = s;
      } else if (cmp === 0) best.push(n);
    }
    const chosen = best.length === 1 ? best[0]! : best[this.rng.int(0, best.length - 1)]!;
    const next = clone(pod);
    next.spec.nodeName = chosen.metadata.name;
    this.writeCondition(next, { type: 'PodScheduled', status: 'True' });
    this.store.writeStatus(next);
  }

  private writeCondition(pod: Pod, cond: PodCondition): void {
    pod.status ??= {};
    pod.status.conditions ??= [];
    const conds = pod.status.conditions;
    const i = conds.findIndex((c) => c.type === cond.type);
    const prev = i >= 0 ? conds[i] : undefined;
    const same = prev?.status === cond.status;
    const c: PodCondition = { ...cond, lastTransitionTime: same ? prev?.lastTransitionTime : this.store.now() };
    if (i >= 0) conds[i] = c;
    else conds.push(c);
  }

  private setScheduled(pod: Pod, cond: PodCondition): void {
    const prev = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (prev?.status === cond.status && prev.message === cond.message && prev.reason === cond.reason) return;
    const next = clone(pod);
    this.writeCondition(next, cond);
    this.store.writeStatus(next);
  }
}
