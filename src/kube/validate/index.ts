// Validation by kind, on create and on update (the object already defaulted), returning upstream's field errors in
// upstream's order. Namespaces are RFC 1123 labels; Nodes are created by the cluster itself and are checked only
// for their name.

import type { FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { deepEqual } from '../util.js';
import { validateDeployment, validateReplicaSet, validateSelectorImmutable } from './apps.js';
import { validateEndpointSlice, validateEndpointSliceUpdate, validateEndpoints } from './endpoints.js';
import { validateObjectMeta } from './meta.js';
import { nameIsDns1123Label, nameIsDns1123Subdomain } from './names.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';

export function validateCreate(obj: KubeObject): FieldError[] {
  switch (obj.kind) {
    case 'Service':
      return validateService(obj);
    case 'Pod':
      return validatePod(obj);
    case 'Deployment':
      return validateDeployment(obj);
    case 'ReplicaSet':
      return validateReplicaSet(obj);
    case 'Endpoints':
      return validateEndpoints(obj);
    case 'EndpointSlice':
      return validateEndpointSlice(obj);
    case 'Namespace':
      return validateObjectMeta(obj.metadata, false, nameIsDns1123Label);
    case 'Node':
      return validateObjectMeta(obj.metadata, false, nameIsDns1123Subdomain);
  }
}

export function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  if (obj.kind === 'Service' && old.kind === 'Service') return validateServiceUpdate(obj, old);
  if (obj.kind === 'Pod' && old.kind === 'Pod') return validatePodUpdate(obj, old, deepEqual);
  if (obj.kind === 'EndpointSlice' && old.kind === 'EndpointSlice') return validateEndpointSliceUpdate(obj, old);
  if (obj.kind === 'Deployment' && old.kind === 'Deployment') {
    return [...validateDeployment(obj), ...validateSelectorImmutable(obj.spec.selector, old.spec.selector)];
  }
  if (obj.kind === 'ReplicaSet' && old.kind === 'ReplicaSet') {
    return [...validateReplicaSet(obj), ...validateSelectorImmutable(obj.spec.selector, old.spec.selector)];
  }
  return validateCreate(obj);
}
