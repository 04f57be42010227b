// Manifests as `kubectl apply -f` reads them: a YAML stream of documents separated by `---`, each one object or a
// `kind: List` of `items`; empty documents are skipped. YAML is read with 1.1 scalars as kubectl's go-yaml does
// (`yes`/`on` are booleans, `0777` is octal), duplicate keys are errors. Each object is checked for apiVersion and
// kind (`no matches for kind "Foo" in version "v1"`), decoded strictly against its schema, and returned with a
// locator that turns an API field path into the manifest's line and column. Namespaced objects without a
// namespace get the default one; cluster-scoped objects lose theirs, as the API server clears it.
// Limits: Node objects cannot come from a manifest (nodes are added to the cluster); kinds podwire does not model
// (ConfigMap, StatefulSet …) are rejected with a message saying so.

import type { Document, LineCounter as LineCounterType } from 'yaml';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { DecodeProblem } from './decode.js';
import { decode, decodeMessage } from './decode.js';
import type { FieldPath } from './errors.js';
import { invalidError, ManifestError } from './errors.js';
import { isKind, KINDS } from './kinds.js';
import { KIND_SCHEMAS } from './schema.js';
import type { KubeObject } from './types.js';
import { isPlainObject } from './util.js';
import type { ObjectSource } from './yaml-pos.js';
import { documentSource } from './yaml-pos.js';

export interface ManifestObject {
  object: KubeObject;
  source: ObjectSource;
}

export interface ParseOptions {
  /** The namespace of namespaced objects that name none (kubectl's current namespace). */
  namespace?: string;
}

/** Kinds Kubernetes has that podwire does not model: named so the error says "not supported" rather than "unknown". */
const UNMODELLED = new Set([
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Ingress',
  'IngressClass',
  'NetworkPolicy',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'StorageClass',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'ReplicationController',
  'LimitRange',
  'ResourceQuota',
  'PriorityClass',
  'CustomResourceDefinition',
  'Gateway',
  'HTTPRoute',
]);

const MANIFEST_KINDS = Object.values(KINDS)
  .filter((k) => k.kind !== 'Node')
  .map((k) => k.kind)
  .sort();

type Doc = Document.Parsed;

/** Dates that YAML 1.1 timestamps became go back to the RFC 3339 text kubectl would have sent. */
function undate(v: unknown): unknown {
  if (v instanceof Date) return `${v.toISOString().slice(0, 19)}Z`;
  if (Array.isArray(v)) return v.map(undate);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, undate(x)]));
  return v;
}

export function parseManifest(text: string, file: string, opts: ParseOptions = {}): ManifestObject[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, version: '1.1' });
  const out: ManifestObject[] = [];
  for (const doc of docs) {
    const problem = [...doc.errors, ...doc.warnings][0];
    if (problem !== undefined) {
      const p = lc.linePos(problem.pos[0]);
      throw new ManifestError(file, p.line, p.col, `error parsing YAML: ${problem.message.split('\n')[0]}`);
    }
    if (doc.contents === null) continue;
    let data: unknown;
    try {
      data = undate(doc.toJS({ maxAliasCount: 100 }));
    } catch (e) {
      const p = lc.linePos(doc.range[0]);
      throw new ManifestError(file, p.line, p.col, e instanceof Error ? e.message : String(e));
    }
    if (data === null || data === undefined) continue;
    out.push(...documentObjects(doc, lc, file, data, [], opts));
  }
  return out;
}

function documentObjects(
  doc: Doc,
  lc: LineCounterType,
  file: string,
  data: unknown,
  prefix: (string | number)[],
  opts: ParseOptions,
): ManifestObject[] {
  const source = documentSource(file, doc, lc, prefix);
  const fail = (path: FieldPath, message: string, key = false): never => {
    const p = source.locate(path, { key });
    throw new ManifestError(file, p.line, p.col, message);
  };
  if (!isPlainObject(data)) {
    return fail([], 'error validating data: expected a Kubernetes object (a mapping with apiVersion and kind)');
  }
  const missing = [
    typeof data.apiVersion === 'string' && data.apiVersion !== '' ? undefined : 'apiVersion not set',
    typeof data.kind === 'string' && data.kind !== '' ? undefined : 'kind not set',
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) {
    return fail([], `error validating data: ${missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`}`);
  }
  const apiVersion = data.apiVersion as string;
  const kind = data.kind as string;

  if (kind === 'List' && apiVersion === 'v1') {
    const items = data.items;
    if (items === undefined || items === null) return [];
    if (!Array.isArray(items)) return fail(['items'], 'error validating data: items must be a list of objects');
    return items.flatMap((item, i) => documentObjects(doc, lc, file, item, [...prefix, 'items', i], opts));
  }
  if (kind === 'Node') {
    return fail(['kind'], "Node objects are the cluster's nodes; a manifest cannot create them");
  }
  if (!isKind(kind)) {
    if (UNMODELLED.has(kind)) {
      return fail(['kind'], `kind "${kind}" is not supported by podwire (supported: ${MANIFEST_KINDS.join(', ')})`);
    }
    return fail(['kind'], `no matches for kind "${kind}" in version "${apiVersion}"`);
  }
  const info = KINDS[kind];
  if (info.apiVersion !== apiVersion) {
    return fail(['apiVersion'], `no matches for kind "${kind}" in version "${apiVersion}"`);
  }

  const decoded = decode(KIND_SCHEMAS[kind]!, data);
  if (decoded.problems.length > 0) {
    const first: DecodeProblem = decoded.problems.find((p) => !p.atKey) ?? decoded.problems[0]!;
    return fail(first.path, decodeMessage(kind, info.apiVersion, decoded.problems), first.atKey);
  }
  const object = decoded.value as unknown as KubeObject;
  object.metadata ??= { name: '' };
  if (info.namespaced) object.metadata.namespace ??= opts.namespace ?? 'default';
  else delete object.metadata.namespace;
  if (decoded.unsupported.length > 0) {
    const e = invalidError(kind, object.metadata.name ?? '', decoded.unsupported);
    const p = source.locate(decoded.unsupported[0]!.path, { key: true });
    throw new ManifestError(file, p.line, p.col, e.message, e);
  }
  return [{ object, source }];
}
