// Label selection: a Service's selector is a plain map (all pairs must match; an empty map selects every pod of the
// namespace, an absent one none, as the endpoints controllers treat them), a Deployment's or ReplicaSet's is a
// metav1.LabelSelector with matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist).

import type { LabelSelector } from './types.js';

export function matchesMap(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function matchesSelector(s: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (s.matchLabels && !matchesMap(s.matchLabels, labels)) return false;
  for (const r of s.matchExpressions ?? []) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const v = labels?.[r.key];
    switch (r.operator) {
      case 'In':
        if (!has || !(r.values ?? []).includes(v!)) return false;
        break;
      case 'NotIn':
        if (has && (r.values ?? []).includes(v!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** labels.Selector.Empty(): a selector with no requirement at all. */
export function isEmptySelector(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}
