// Pod and pod template validation, the parts of ValidatePodSpec that bear on what podwire models, with upstream's
// messages: at least one container; container names (RFC 1123 labels, unique), images; container ports (IANA
// names unique per container, containerPort required and in range, hostPort range, protocol, hostPorts unique as
// `TCP//8080` per pod); restartPolicy and dnsPolicy values; nodeSelector labels; nodeName; tolerations; hostname and
// subdomain; the podwire.io/ready annotation. On update only labels, annotations and container images may change.
// Limits: volumes, resources, probes, security contexts are not validated (they have no effect here).

import type { FieldError, FieldPath } from '../errors.js';
import { fieldErr } from '../errors.js';
import type { Container, Pod, PodSpec, PodTemplateSpec, Toleration } from '../types.js';
import { validateAnnotations, validateLabels, validateObjectMeta, validateReadyAnnotation } from './meta.js';
import {
  isDns1123Label,
  isDns1123Subdomain,
  isLabelValue,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  nameIsDns1123Subdomain,
} from './names.js';
import { PROTOCOLS } from './service.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function validateContainerPorts(c: Container, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const pp = [...path, i];
    if (p.name) {
      const msgs = isValidPortName(p.name);
      if (msgs.length > 0) for (const m of msgs) errs.push(fieldErr.invalid([...pp, 'name'], p.name, m));
      else if (names.has(p.name)) errs.push(fieldErr.duplicate([...pp, 'name'], p.name));
      else names.add(p.name);
    }
    if (!p.containerPort) errs.push(fieldErr.required([...pp, 'containerPort']));
    else
      for (const m of isValidPortNum(p.containerPort))
        errs.push(fieldErr.invalid([...pp, 'containerPort'], p.containerPort, m));
    if (p.hostPort)
      for (const m of isValidPortNum(p.hostPort)) errs.push(fieldErr.invalid([...pp, 'hostPort'], p.hostPort, m));
    if (!p.protocol) errs.push(fieldErr.required([...pp, 'protocol']));
    else if (!(PROTOCOLS as readonly string[]).includes(p.protocol)) {
      errs.push(fieldErr.notSupported([...pp, 'protocol'], p.protocol, PROTOCOLS));
    }
  });
  return errs;
}

function validateContainers(
  containers: readonly Container[] | undefined,
  path: FieldPath,
  required: boolean,
): FieldError[] {
  if (!containers || containers.length === 0) return required ? [fieldErr.required(path)] : [];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const cp = [...path, i];
    if (!c.name) errs.push(fieldErr.required([...cp, 'name']));
    else {
      for (const m of isDns1123Label(c.name)) errs.push(fieldErr.invalid([...cp, 'name'], c.name, m));
      if (names.has(c.name)) errs.push(fieldErr.duplicate([...cp, 'name'], c.name));
      names.add(c.name);
    }
    if (!c.image || c.image.trim() === '') errs.push(fieldErr.required([...cp, 'image']));
    errs.push(...validateContainerPorts(c, [...cp, 'ports']));
  });
  return errs;
}

function validateHostPorts(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (spec.containers ?? []).forEach((c, ci) => {
    (c.ports ?? []).forEach((p, pi) => {
      if (!p.hostPort) return;
      const key = `${p.protocol ?? ''}/${p.hostIP ?? ''}/${p.hostPort}`;
      if (seen.has(key)) errs.push(fieldErr.duplicate([...path, 'containers', ci, 'ports', pi, 'hostPort'], key));
      else seen.add(key);
    });
  });
  return errs;
}

/** %#v of a core.Toleration. */
function goToleration(t: Toleration): { goRaw: string } {
  const q = (v: string | undefined) => JSON.stringify(v ?? '');
  const secs = t.tolerationSeconds === undefined ? '(*int64)(nil)' : `(*int64)(${t.tolerationSeconds})`;
  return {
    goRaw: `core.Toleration{Key:${q(t.key)}, Operator:${q(t.operator)}, Value:${q(t.value)}, Effect:${q(t.effect)}, TolerationSeconds:${secs}}`,
  };
}

function validateTolerations(tols: readonly Toleration[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (tols ?? []).forEach((t, i) => {
    const p = [...path, i];
    if (t.key) for (const m of isQualifiedName(t.key)) errs.push(fieldErr.invalid([...p, 'key'], t.key, m));
    if (!t.key && t.operator !== 'Exists') {
      errs.push(
        fieldErr.invalid(
          [...p, 'operator'],
          t.operator ?? '',
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      errs.push(
        fieldErr.invalid(
          [...p, 'effect'],
          t.effect ?? '',
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    }
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isLabelValue(t.value ?? '');
        if (msgs.length > 0) errs.push(fieldErr.invalid([...p, 'operator'], t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) {
          errs.push(
            fieldErr.invalid([...p, 'operator'], goToleration(t), "value must be empty when `operator` is 'Exists'"),
          );
        }
        break;
      default:
        errs.push(fieldErr.notSupported([...p, 'operator'], t.operator, ['Equal', 'Exists']));
    }
    if (t.effect && !TAINT_EFFECTS.includes(t.effect))
      errs.push(fieldErr.notSupported([...p, 'effect'], t.effect, TAINT_EFFECTS));
  });
  return errs;
}

export function validatePodSpec(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateContainers(spec.containers, [...path, 'containers'], true));
  errs.push(...validateContainers(spec.initContainers, [...path, 'initContainers'], false));
  errs.push(...validateHostPorts(spec, path));
  if (!spec.restartPolicy) errs.push(fieldErr.required([...path, 'restartPolicy']));
  else if (!RESTART_POLICIES.includes(spec.restartPolicy)) {
    errs.push(fieldErr.notSupported([...path, 'restartPolicy'], spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) {
    errs.push(fieldErr.notSupported([...path, 'dnsPolicy'], spec.dnsPolicy, DNS_POLICIES));
  }
  errs.push(...validateLabels(spec.nodeSelector, [...path, 'nodeSelector']));
  if (spec.nodeName) {
    for (const m of isDns1123Subdomain(spec.nodeName))
      errs.push(fieldErr.invalid([...path, 'nodeName'], spec.nodeName, m));
  }
  errs.push(...validateTolerations(spec.tolerations, [...path, 'tolerations']));
  if (spec.hostname)
    for (const m of isDns1123Label(spec.hostname)) errs.push(fieldErr.invalid([...path, 'hostname'], spec.hostname, m));
  if (spec.subdomain) {
    for (const m of isDns1123Label(spec.subdomain))
      errs.push(fieldErr.invalid([...path, 'subdomain'], spec.subdomain, m));
  }
  return errs;
}

export function validatePodTemplate(t: PodTemplateSpec | undefined, path: FieldPath): FieldError[] {
  if (t === undefined) return [fieldErr.required(path)];
  const meta = [...path, 'metadata'];
  return [
    ...validateLabels(t.metadata?.labels, [...meta, 'labels']),
    ...validateAnnotations(t.metadata?.annotations, [...meta, 'annotations']),
    ...validateReadyAnnotation(t.metadata?.annotations, [...meta, 'annotations']),
    ...validatePodSpec(t.spec ?? { containers: [] }, [...path, 'spec']),
  ];
}

export function validatePod(pod: Pod): FieldError[] {
  return [
    ...validateObjectMeta(pod.metadata, true, nameIsDns1123Subdomain),
    ...validateReadyAnnotation(pod.metadata.annotations, ['metadata', 'annotations']),
    ...validatePodSpec(pod.spec, ['spec']),
  ];
}

const POD_UPDATE_MSG =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** The spec with what an update may change masked out, for comparison. */
export function podSpecMasked(spec: PodSpec): unknown {
  const strip = (cs: readonly Container[] | undefined) => cs?.map((c) => ({ ...c, image: undefined }));
  return {
    ...spec,
    containers: strip(spec.containers),
    initContainers: strip(spec.initContainers),
    tolerations: undefined,
    terminationGracePeriodSeconds: undefined,
  };
}

export function validatePodUpdate(pod: Pod, old: Pod, specEqual: (a: unknown, b: unknown) => boolean): FieldError[] {
  const errs = [
    ...validateObjectMeta(pod.metadata, true, nameIsDns1123Subdomain),
    ...validateReadyAnnotation(pod.metadata.annotations, ['metadata', 'annotations']),
  ];
  if (!specEqual(podSpecMasked(pod.spec), podSpecMasked(old.spec)))
    errs.push(fieldErr.forbidden(['spec'], POD_UPDATE_MSG));
  return [...errs, ...validatePodSpec(pod.spec, ['spec'])];
}
