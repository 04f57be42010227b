// Which pods a ReplicaSet deletes first when it scales down (controller.ActivePodsWithRanks): unassigned before
// assigned; Pending before Unknown before Running; not ready before ready; lower
// controller.kubernetes.io/pod-deletion-cost before higher; pods on nodes crowded with more pods of the same
// workload before others; of two ready pods, the one ready for less time; then the newer pod. Time ties fall back to
// creation order, so the order is total and runs repeat.
// Limits: LogarithmicScaleDown's bucketing of ages is not modelled (plain newest-first); container restart counts
// do not exist here.

import { isPodActive, isPodReady, podCondition } from '../pods.js';
import type { Pod } from '../types.js';
import { ANNOTATION_DELETION_COST } from '../types.js';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(p: Pod): number {
  const v = Number(p.metadata.annotations?.[ANNOTATION_DELETION_COST] ?? 0);
  return Number.isInteger(v) ? v : 0;
}

/**
 * Orders `pods` so the ones to delete first come first. `related` are all active pods of the workload (for the
 * crowding rank); `order` gives each pod's creation sequence (newer is larger).
 */
export function rankForDeletion(pods: readonly Pod[], related: readonly Pod[], order: (p: Pod) => number): Pod[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (isPodActive(p)) onNode.set(p.spec.nodeName ?? '', (onNode.get(p.spec.nodeName ?? '') ?? 0) + 1);
  }
  const rank = (p: Pod): number => onNode.get(p.spec.nodeName ?? '') ?? 0;
  const readySince = (p: Pod): string => podCondition(p, 'Ready')?.lastTransitionTime ?? '';
  return [...pods].sort((a, b) => {
    const an = a.spec.nodeName ?? '';
    const bn = b.spec.nodeName ?? '';
    if (an !== bn && (an === '' || bn === '')) return an === '' ? -1 : 1;
    const pa = PHASE_ORDER[a.status?.phase ?? 'Pending'] ?? 0;
    const pb = PHASE_ORDER[b.status?.phase ?? 'Pending'] ?? 0;
    if (pa !== pb) return pa - pb;
    if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (isPodReady(a) && isPodReady(b) && readySince(a) !== readySince(b)) {
      return readySince(a) > readySince(b) ? -1 : 1;
    }
    if ((a.metadata.creationTimestamp ?? '') !== (b.metadata.creationTimestamp ?? '')) {
      return (a.metadata.creationTimestamp ?? '') > (b.metadata.creationTimestamp ?? '') ? -1 : 1;
    }
    return order(b) - order(a);
  });
}
