// What the API server knows about each kind podwire serves: its group/version, its resource name (the plural the
// REST paths and the NotFound/AlreadyExists messages use, `deployments.apps "web" not found`), the qualified kind
// the Invalid messages use (`Deployment.apps "web" is invalid`) and whether it lives in a namespace.

import type { Kind, KubeObject } from './types.js';

export interface KindInfo {
  kind: Kind;
  apiVersion: string;
  /** API group, '' for core/v1. */
  group: string;
  /** Lower-case plural, as in REST paths. */
  resource: string;
  namespaced: boolean;
}

export const KINDS: Readonly<Record<Kind, KindInfo>> = {
  Namespace: { kind: 'Namespace', apiVersion: 'v1', group: '', resource: 'namespaces', namespaced: false },
  Node: { kind: 'Node', apiVersion: 'v1', group: '', resource: 'nodes', namespaced: false },
  Pod: { kind: 'Pod', apiVersion: 'v1', group: '', resource: 'pods', namespaced: true },
  Service: { kind: 'Service', apiVersion: 'v1', group: '', resource: 'services', namespaced: true },
  Endpoints: { kind: 'Endpoints', apiVersion: 'v1', group: '', resource: 'endpoints', namespaced: true },
  EndpointSlice: {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    group: 'discovery.k8s.io',
    resource: 'endpointslices',
    namespaced: true,
  },
  Deployment: { kind: 'Deployment', apiVersion: 'apps/v1', group: 'apps', resource: 'deployments', namespaced: true },
  ReplicaSet: { kind: 'ReplicaSet', apiVersion: 'apps/v1', group: 'apps', resource: 'replicasets', namespaced: true },
};

/** `Deployment.apps`, `Service`: schema.GroupKind's String(). */
export function qualifiedKind(kind: Kind): string {
  const g = KINDS[kind].group;
  return g === '' ? kind : `${kind}.${g}`;
}

/** `deployments.apps`, `services`: schema.GroupResource's String(). */
export function qualifiedResource(kind: Kind): string {
  const info = KINDS[kind];
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

/** kubectl's `deployment.apps/web` form. */
export function kubectlName(kind: Kind, name: string): string {
  const g = KINDS[kind].group;
  const k = kind.toLowerCase();
  return `${g === '' ? k : `${k}.${g}`}/${name}`;
}

/** The store key of an object: `namespace/name`, or `name` for cluster-scoped kinds. */
export function objectKey(kind: Kind, namespace: string | undefined, name: string): string {
  return KINDS[kind].namespaced ? `${namespace ?? ''}/${name}` : name;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
}

export function isKind(s: string): s is Kind {
  return Object.hasOwn(KINDS, s);
}
