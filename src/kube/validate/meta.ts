// ObjectMeta validation as apimachinery's ValidateObjectMeta does it on create (name or generateName, namespace
// rules for namespaced and cluster-scoped kinds, labels, annotation keys, owner references), the label selector
// checks metav1's validation makes, and the one podwire annotation: `podwire.io/ready` must be "true" or "false".
// Limits: the 256 KiB total annotation size limit and finalizers are not checked.

import type { FieldError, FieldPath } from '../errors.js';
import { fieldErr } from '../errors.js';
import type { LabelSelector, ObjectMeta, OwnerReference } from '../types.js';
import { ANNOTATION_READY } from '../types.js';
import type { NameValidator } from './names.js';
import { isDns1123Label, isLabelValue, isQualifiedName } from './names.js';

export function validateLabels(labels: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(fieldErr.invalid(path, k, m));
    for (const m of isLabelValue(v)) errs.push(fieldErr.invalid(path, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErr.invalid(path, k, m));
  }
  return errs;
}

/** The podwire readiness annotation, on a pod or a pod template. */
export function validateReadyAnnotation(
  annotations: Record<string, string> | undefined,
  path: FieldPath,
): FieldError[] {
  const v = annotations?.[ANNOTATION_READY];
  if (v === undefined || v === 'true' || v === 'false') return [];
  return [fieldErr.invalid([...path, { key: ANNOTATION_READY }], v, 'must be "true" or "false"')];
}

function validateOwnerReferences(refs: readonly OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const r of refs ?? []) {
    if (!r.apiVersion)
      errs.push(fieldErr.invalid([...path, 'apiVersion'], r.apiVersion ?? '', 'version must not be empty'));
    if (!r.kind) errs.push(fieldErr.invalid([...path, 'kind'], r.kind ?? '', 'must not be empty'));
    if (!r.name) errs.push(fieldErr.invalid([...path, 'name'], r.name ?? '', 'must not be empty'));
    if (!r.uid) errs.push(fieldErr.invalid([...path, 'uid'], r.uid ?? '', 'must not be empty'));
    if (r.controller === true) {
      const cur = `${r.kind}/${r.name}`;
      if (firstController !== '') {
        errs.push(
          fieldErr.invalid(
            path,
            { goRaw: '[]v1.OwnerReference{…}' },
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`,
          ),
        );
      } else firstController = cur;
    }
  }
  return errs;
}

export function validateObjectMeta(
  meta: ObjectMeta,
  namespaced: boolean,
  nameFn: NameValidator,
  path: FieldPath = ['metadata'],
): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName) {
    for (const m of nameFn(meta.generateName, true)) {
      errs.push(fieldErr.invalid([...path, 'generateName'], meta.generateName, m));
    }
  }
  if (!meta.name) errs.push(fieldErr.required([...path, 'name'], 'name or generateName is required'));
  else for (const m of nameFn(meta.name, false)) errs.push(fieldErr.invalid([...path, 'name'], meta.name, m));
  if (namespaced) {
    if (!meta.namespace) errs.push(fieldErr.required([...path, 'namespace']));
    else
      for (const m of isDns1123Label(meta.namespace)) {
        errs.push(fieldErr.invalid([...path, 'namespace'], meta.namespace, m));
      }
  } else if (meta.namespace) {
    errs.push(fieldErr.forbidden([...path, 'namespace'], 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, [...path, 'labels']));
  errs.push(...validateAnnotations(meta.annotations, [...path, 'annotations']));
  errs.push(...validateOwnerReferences(meta.ownerReferences, [...path, 'ownerReferences']));
  return errs;
}

/**
 * A *metav1.LabelSelector in a field error: it is a fmt.Stringer, so it prints its protobuf String() form,
 * `&LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{},}`.
 */
export function goLabelSelector(s: LabelSelector | undefined): { goRaw: string } {
  if (s === undefined) return { goRaw: 'null' };
  const labels = Object.keys(s.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${s.matchLabels![k]},`)
    .join('');
  const exprs = (s.matchExpressions ?? [])
    .map(
      (r) => `LabelSelectorRequirement{Key:${r.key},Operator:${r.operator},Values:[${(r.values ?? []).join(' ')}],},`,
    )
    .join('');
  return {
    goRaw: `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`,
  };
}

export function validateLabelSelector(s: LabelSelector, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [...validateLabels(s.matchLabels, [...path, 'matchLabels'])];
  (s.matchExpressions ?? []).forEach((r, i) => {
    const p = [...path, 'matchExpressions', i];
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (!r.values || r.values.length === 0) {
          errs.push(fieldErr.required([...p, 'values'], "must be specified when `operator` is 'In' or 'NotIn'"));
        }
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (r.values && r.values.length > 0) {
          errs.push(
            fieldErr.forbidden([...p, 'values'], "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
          );
        }
        break;
      default:
        errs.push(fieldErr.invalid([...p, 'operator'], r.operator ?? '', 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(r.key ?? '')) errs.push(fieldErr.invalid([...p, 'key'], r.key ?? '', m));
  });
  return errs;
}
