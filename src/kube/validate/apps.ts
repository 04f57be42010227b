// Deployment and ReplicaSet validation (pkg/apis/apps/validation): replicas not negative, a non-empty selector
// that matches the template's labels, a valid pod template whose restartPolicy is Always, the rollout strategy
// (Recreate takes no rollingUpdate; maxSurge and maxUnavailable are non-negative integers or percentages, not both
// zero, maxUnavailable at most 100%), revisionHistoryLimit and progressDeadlineSeconds; on update the selector is
// immutable.

import type { FieldError, FieldPath } from '../errors.js';
import { fieldErr } from '../errors.js';
import { isEmptySelector, matchesSelector } from '../selectors.js';
import type { Deployment, LabelSelector, PodTemplateSpec, ReplicaSet, RollingUpdateDeployment } from '../types.js';
import { deepEqual } from '../util.js';
import { goLabelSelector, validateLabelSelector, validateObjectMeta } from './meta.js';
import { nameIsDns1123Subdomain, regexError } from './names.js';
import { validatePodTemplate } from './pod.js';

const NEGATIVE = 'must be greater than or equal to 0';

function nonNegative(v: number | undefined, path: FieldPath): FieldError[] {
  return v !== undefined && v < 0 ? [fieldErr.invalid(path, v, NEGATIVE)] : [];
}

function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  what: 'deployment' | 'replicaset',
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (selector === undefined) errs.push(fieldErr.required([...path, 'selector']));
  else {
    errs.push(...validateLabelSelector(selector, [...path, 'selector']));
    if (isEmptySelector(selector)) {
      errs.push(
        fieldErr.invalid([...path, 'selector'], goLabelSelector(selector), `empty selector is invalid for ${what}`),
      );
    }
  }
  const tpath = [...path, 'template'];
  if (template === undefined) return [...errs, fieldErr.required(tpath)];
  if (selector !== undefined && !isEmptySelector(selector) && !matchesSelector(selector, template.metadata?.labels)) {
    errs.push(
      fieldErr.invalid(
        [...tpath, 'metadata', 'labels'],
        template.metadata?.labels ?? {},
        '`selector` does not match template `labels`',
      ),
    );
  }
  errs.push(...validatePodTemplate(template, tpath));
  const rp = template.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always')
    errs.push(fieldErr.notSupported([...tpath, 'spec', 'restartPolicy'], rp, ['Always']));
  return errs;
}

/** intstr's printed form inside a field error (it is a fmt.Stringer: no quotes). */
function intstrValue(v: number | string): { goRaw: string } {
  return { goRaw: String(v) };
}

function intOrPercent(v: number | string | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  return m ? Number(m[1]) : 0;
}

function validatePositiveIntOrPercent(v: number | string | undefined, path: FieldPath): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === 'string') {
    return /^[0-9]+%$/.test(v)
      ? []
      : [
          fieldErr.invalid(
            path,
            intstrValue(v),
            regexError(
              "a valid percent string must be a numeric string followed by an ending '%'",
              '[0-9]+%',
              '1%',
              '93%',
            ),
          ),
        ];
  }
  return nonNegative(v, path);
}

function validateRollingUpdate(ru: RollingUpdateDeployment, path: FieldPath): FieldError[] {
  const errs = [
    ...validatePositiveIntOrPercent(ru.maxUnavailable, [...path, 'maxUnavailable']),
    ...validatePositiveIntOrPercent(ru.maxSurge, [...path, 'maxSurge']),
  ];
  if (intOrPercent(ru.maxUnavailable) === 0 && intOrPercent(ru.maxSurge) === 0) {
    errs.push(
      fieldErr.invalid(
        [...path, 'maxUnavailable'],
        intstrValue(ru.maxUnavailable ?? 0),
        'may not be 0 when `maxSurge` is 0',
      ),
    );
  }
  if (typeof ru.maxUnavailable === 'string' && intOrPercent(ru.maxUnavailable) > 100) {
    errs.push(
      fieldErr.invalid([...path, 'maxUnavailable'], intstrValue(ru.maxUnavailable), 'must not be greater than 100%'),
    );
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  const spec = d.spec ?? ({} as Deployment['spec']);
  const errs = validateObjectMeta(d.metadata, true, nameIsDns1123Subdomain);
  errs.push(...nonNegative(spec.replicas, ['spec', 'replicas']));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'deployment', ['spec']));
  const st = spec.strategy ?? {};
  const sp = ['spec', 'strategy'];
  switch (st.type) {
    case 'Recreate':
      if (st.rollingUpdate !== undefined) {
        errs.push(
          fieldErr.forbidden([...sp, 'rollingUpdate'], "may not be specified when strategy `type` is 'Recreate'"),
        );
      }
      break;
    case 'RollingUpdate':
      if (st.rollingUpdate === undefined) {
        errs.push(fieldErr.required([...sp, 'rollingUpdate'], 'this should be defaulted and never be nil'));
      } else errs.push(...validateRollingUpdate(st.rollingUpdate, [...sp, 'rollingUpdate']));
      break;
    default:
      errs.push(fieldErr.notSupported([...sp, 'type'], st.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  errs.push(...nonNegative(spec.minReadySeconds, ['spec', 'minReadySeconds']));
  errs.push(...nonNegative(spec.revisionHistoryLimit, ['spec', 'revisionHistoryLimit']));
  if (spec.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, ['spec', 'progressDeadlineSeconds']));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(
        fieldErr.invalid(
          ['spec', 'progressDeadlineSeconds'],
          spec.progressDeadlineSeconds,
          'must be greater than minReadySeconds',
        ),
      );
    }
  }
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const spec = rs.spec ?? ({} as ReplicaSet['spec']);
  const errs = validateObjectMeta(rs.metadata, true, nameIsDns1123Subdomain);
  errs.push(...nonNegative(spec.replicas, ['spec', 'replicas']));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'replicaset', ['spec']));
  errs.push(...nonNegative(spec.minReadySeconds, ['spec', 'minReadySeconds']));
  return errs;
}

/** The selector of a Deployment or ReplicaSet may not change (apps/v1). */
export function validateSelectorImmutable(sel: LabelSelector, old: LabelSelector): FieldError[] {
  return deepEqual(sel, old)
    ? []
    : [fieldErr.invalid(['spec', 'selector'], goLabelSelector(sel), 'field is immutable')];
}
