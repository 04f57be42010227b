// The Kubernetes parts of a scenario, from schema-checked data to the typed form: `cluster.kubernetes` (the service
// CIDR and node port range tried on a control plane, kube-proxy's options, every manifest read and checked) and the
// steps that change the cluster or name Services. A manifest is parsed as `kubectl apply -f` parses it and each
// object is validated as the API server would validate its creation, so `validate` reports a misspelt field or an
// invalid Service at its line and column — inside an inline block at the exact character of the scenario file, in
// a manifest file at its own position. What only the live cluster can refuse (an address already allocated, an
// update of an immutable field) is reported when the manifest is applied. References to nodes in steps and
// expectations must name cluster nodes; references to Services and pods are resolved when the step runs.
// Limits: manifests are read once, when the scenario is loaded.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ApiError, KubeCluster, ManifestError, parseManifest, placeError } from '../kube/index.js';
import { Rng } from '../sim/rng.js';
import { parseCidr } from '../wire/addr.js';
import { ScenarioError } from './errors.js';
import { parseConnectRef, parsePingRef, parseServedBy, parseSourceSeen } from './kube-refs.js';
import type { ScenarioData } from './schema.js';
import type { ClusterKubernetes, KubeManifest, Pos } from './types.js';

type KubernetesData = NonNullable<NonNullable<ScenarioData['cluster']>['kubernetes']>;
type StepData = ScenarioData['steps'][number];

/** Maps line:col of the inline block at `path` to file positions (cluster-load's inlineLocator). */
export type InlineLocator = (path: PropertyKey[], text: string, fallback: Pos) => (line: number, col: number) => Pos;

export interface KubeLoadContext {
  file: string;
  /** Position of a data path's value in the scenario file. */
  pos: (path: PropertyKey[]) => Pos;
  inline: InlineLocator;
}

/** A manifest's problem as a scenario error at its place. */
export function manifestScenarioError(e: unknown, m: KubeManifest, what: string): ScenarioError {
  if (e instanceof ManifestError && e.line > 0) return ScenarioError.at(m.locate(e.line, e.col), `${what}${e.message}`);
  if (e instanceof ManifestError || e instanceof ApiError) return ScenarioError.at(m.pos, `${what}${e.message}`);
  return ScenarioError.at(m.pos, `${what}${e instanceof Error ? e.message : String(e)}`);
}

/** A manifest item (`{ file }` or `{ inline }`, or a step's `apply`) read and located. */
export function loadManifest(
  item: { file: string } | { inline: string } | string,
  path: PropertyKey[],
  ctx: KubeLoadContext,
): KubeManifest {
  const pos = ctx.pos(path);
  if (typeof item === 'string' || 'inline' in item) {
    const text = typeof item === 'string' ? item : item.inline;
    const at = typeof item === 'string' ? path : [...path, 'inline'];
    return { pos, file: ctx.file, text, locate: ctx.inline(at, text, ctx.pos(at)) };
  }
  const file = resolve(dirname(ctx.file), item.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw ScenarioError.at(ctx.pos([...path, 'file']), `cannot read manifest: ${reason}`);
  }
  return { pos, file, text, locate: (line, col) => ({ file, line, col }) };
}

/** Parses the manifest as kubectl does and validates every object as a creation; throws the first ScenarioError. */
export function checkManifest(m: KubeManifest, probe: KubeCluster): void {
  let objs: ReturnType<typeof parseManifest>;
  try {
    objs = parseManifest(m.text, m.file);
  } catch (e) {
    throw manifestScenarioError(e, m, '');
  }
  for (const { object, source } of objs) {
    try {
      probe.store.check(object);
    } catch (e) {
      throw manifestScenarioError(e instanceof ApiError ? placeError(e, source) : e, m, '');
    }
  }
}

/** A control plane with the section's service CIDR and node port range, for checking; throws at the bad field. */
function probeCluster(data: KubernetesData, ctx: KubeLoadContext, base: PropertyKey[]): KubeCluster {
  try {
    return new KubeCluster({ rng: new Rng(1), serviceCIDR: data.serviceCIDR });
  } catch (e) {
    throw ScenarioError.at(ctx.pos([...base, 'serviceCIDR']), e instanceof Error ? e.message : String(e));
  }
}

export function loadKubernetes(data: KubernetesData, ctx: KubeLoadContext): ClusterKubernetes {
  const base = ['cluster', 'kubernetes'];
  const probe = probeCluster(data, ctx, base);
  try {
    new KubeCluster({ rng: new Rng(1), serviceCIDR: data.serviceCIDR, nodePortRange: data.nodePortRange });
  } catch (e) {
    throw ScenarioError.at(ctx.pos([...base, 'nodePortRange']), e instanceof Error ? e.message : String(e));
  }
  const manifests = data.manifests.map((item, i) => {
    const m = loadManifest(item, [...base, 'manifests', i], ctx);
    checkManifest(m, probe);
    return m;
  });
  const kp = data.kubeProxy;
  return {
    pos: ctx.pos(base),
    serviceCIDR: data.serviceCIDR,
    nodePortRange: data.nodePortRange,
    ...(data.loadBalancerPool !== undefined ? { loadBalancerPool: parseCidr(data.loadBalancerPool)! } : {}),
    kubeProxy: {
      ...(kp.clusterCIDR !== undefined ? { clusterCIDR: kp.clusterCIDR } : {}),
      masqueradeAll: kp.masqueradeAll,
      masqueradeBit: kp.masqueradeBit,
      nodePortAddresses: kp.nodePortAddresses,
      localhostNodePorts: kp.localhostNodePorts,
    },
    manifests,
  };
}

/** Does a step need `cluster.kubernetes`? Returns the data path to point at when it does. */
function kubePath(s: StepData, i: number): PropertyKey[] | undefined {
  for (const k of ['apply', 'delete', 'scale', 'cordon', 'uncordon', 'drain'] as const)
    if (k in s) return ['steps', i, k];
  if ('connect' in s && parseConnectRef(s.connect.to) !== undefined) return ['steps', i, 'connect', 'to'];
  if ('ping' in s && parsePingRef(s.ping.to) !== undefined) return ['steps', i, 'ping', 'to'];
  if ('connect' in s && typeof s.expect === 'object') {
    for (const k of ['servedBy', 'sourceSeenBy', 'spread'] as const)
      if (k in s.expect) return ['steps', i, 'expect', k];
  }
  return undefined;
}

/**
 * The manifests of `apply` steps (by step index), after checking every step that needs Kubernetes: the cluster must
 * have a `kubernetes` section, and nodes named in steps and expectations must be cluster nodes. Throws the first
 * ScenarioError in step order.
 */
export function loadKubeSteps(
  data: ScenarioData,
  ctx: KubeLoadContext,
  kube: ClusterKubernetes | undefined,
): Map<number, KubeManifest> {
  const nodes = new Set((data.cluster?.nodes ?? []).map((n) => n.name));
  const out = new Map<number, KubeManifest>();
  const probe = kube ? new KubeCluster({ rng: new Rng(1), serviceCIDR: kube.serviceCIDR }) : undefined;
  const node = (name: string, path: PropertyKey[]): void => {
    if (!nodes.has(name))
      throw ScenarioError.at(ctx.pos(path), `unknown node '${name}' (cluster nodes: ${[...nodes].join(', ')})`);
  };
  data.steps.forEach((s, i) => {
    const needs = kubePath(s, i);
    if (needs === undefined) return;
    if (probe === undefined)
      throw ScenarioError.at(ctx.pos(needs), 'this step needs Kubernetes: add a `kubernetes:` section to `cluster:`');
    if ('apply' in s) {
      const m = loadManifest(s.apply, ['steps', i, 'apply'], ctx);
      checkManifest(m, probe);
      out.set(i, m);
    }
    if ('cordon' in s) node(s.cordon, ['steps', i, 'cordon']);
    if ('uncordon' in s) node(s.uncordon, ['steps', i, 'uncordon']);
    if ('drain' in s) node(s.drain, ['steps', i, 'drain']);
    if ('connect' in s) {
      const ref = parseConnectRef(s.connect.to);
      if (ref?.node !== undefined) node(ref.node, ['steps', i, 'connect', 'to']);
      if (typeof s.expect === 'object') {
        const servedBy = s.expect.servedBy;
        const list = servedBy === undefined ? [] : Array.isArray(servedBy) ? servedBy : [servedBy];
        list.forEach((text, j) => {
          const sb = parseServedBy(text);
          const path = ['steps', i, 'expect', 'servedBy', ...(Array.isArray(servedBy) ? [j] : [])];
          if (sb?.kind === 'node') node(sb.node, path);
        });
        const seen = s.expect.sourceSeenBy === undefined ? undefined : parseSourceSeen(s.expect.sourceSeenBy);
        if (seen?.kind === 'node') node(seen.node, ['steps', i, 'expect', 'sourceSeenBy']);
        if (s.expect.spread !== undefined && s.connect.repeat < 2)
          throw ScenarioError.at(
            ctx.pos(['steps', i, 'expect', 'spread']),
            'spread compares the pods that answered several attempts: give the connect step `repeat: 2` or more',
          );
      }
    }
  });
  return out;
}
