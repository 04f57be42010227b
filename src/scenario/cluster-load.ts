// The `cluster:` section of a scenario, from schema-checked data to the typed form the runner builds: node and
// pod names checked against each other and against the namespaces setup creates (steps name pods and nodes as
// namespaces, so one name must mean one thing), and the CNI configuration list read and validated now — as
// libcni would when the runtime loads it — so that `validate` reports a broken pod network. A configuration
// error points at the exact character inside an inline `config: |` block (or inside the referenced file).
// Errors that only a pod ADD can reveal (an exhausted pool, a range that fails at allocation) come later, from
// the runner. Limits: only IPv4; one pod network for every node.

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { isScalar } from 'yaml';
// Registers the bridge, loopback and portmap plugins (and host-local through the IPAM registry).
import '../cni/node.js';
import { findIpam } from '../cni/ipam/index.js';
import { CNI_BIN_DIR, hasPlugin } from '../cni/registry.js';
import { parseConfList } from '../cni/spec/conf.js';
import { CniConfError } from '../cni/spec/errors.js';
import { isObject } from '../cni/spec/json.js';
import { CniError } from '../cni/types.js';
import { parseCidr, parseIpv4 } from '../wire/addr.js';
import { ScenarioError } from './errors.js';
import type { ScenarioData } from './schema.js';
import type { Cluster, ClusterCni, Command, Pos } from './types.js';
import { nodeAt, offsetOf, scalarSource } from './yaml-source.js';

type ClusterData = NonNullable<ScenarioData['cluster']>;

export interface ClusterContext {
  text: string;
  file: string;
  doc: Document.Parsed;
  lc: LineCounter;
  /** The setup commands, when they parsed (to find the namespaces they create). */
  setup: readonly Command[] | undefined;
}

/** The name an inline configuration gets in the node's /etc/cni/net.d. */
export const INLINE_CONF_NAME = '10-podwire.conflist';

/** Offsets of the start of each line of `text`. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function cniSource(data: ClusterData, ctx: ClusterContext, pos: (path: PropertyKey[]) => Pos): ClusterCni {
  const cniPos = pos(['cluster', 'cni']);
  if ('config' in data.cni) {
    const node = nodeAt(ctx.doc, ['cluster', 'cni', 'config']);
    const text = data.cni.config;
    const starts = lineStarts(text);
    const src = isScalar(node) ? scalarSource(ctx.text, node, ctx.file, ctx.lc) : undefined;
    return {
      pos: cniPos,
      fileName: INLINE_CONF_NAME,
      text,
      locate: (line, col) => {
        if (src === undefined) return pos(['cluster', 'cni', 'config']);
        const start = starts[Math.max(0, Math.min(line - 1, starts.length - 1))]!;
        return { file: ctx.file, ...src.locate(start + Math.max(0, col - 1)) };
      },
    };
  }
  const path = resolve(dirname(ctx.file), data.cni.file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw ScenarioError.at(pos(['cluster', 'cni', 'file']), `cannot read CNI configuration: ${reason}`);
  }
  return { pos: cniPos, fileName: basename(path), text, locate: (line, col) => ({ file: path, line, col }) };
}

/** A CNI error as a scenario error: a configuration error at its place in the configuration, others at `pos`. */
export function cniScenarioError(e: unknown, cni: ClusterCni, pos: Pos, what: string): ScenarioError {
  if (e instanceof CniConfError && e.line > 0 && basename(e.file) === cni.fileName) {
    const field = e.field ? `${e.field}: ` : '';
    const why = e.explanation ? ` (${e.explanation})` : '';
    return ScenarioError.at(cni.locate(e.line, e.col), `${what}: ${field}${e.message}${why}`);
  }
  if (e instanceof CniError) {
    const details = e.details ? ` (${e.details})` : '';
    return ScenarioError.at(pos, `${what}: ${e.message}${details}`);
  }
  return ScenarioError.at(pos, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** Parses the list as libcni loads it, and checks that every plugin and IPAM type exists in this build. */
function checkCni(cni: ClusterCni): void {
  let net: ReturnType<typeof parseConfList>;
  try {
    net = parseConfList(cni.text, cni.fileName);
  } catch (e) {
    throw cniScenarioError(e, cni, cni.pos, 'CNI configuration');
  }
  net.list.plugins.forEach((p, i) => {
    const at = (path: (string | number)[]): Pos => {
      const jp = net.doc.pos(path);
      return jp ? cni.locate(jp.line, jp.col) : cni.pos;
    };
    if (!hasPlugin(p.type))
      throw ScenarioError.at(
        at(['plugins', i, 'type']),
        `CNI configuration: failed to find plugin ${JSON.stringify(p.type)} in path [${CNI_BIN_DIR}]`,
      );
    const ipam: unknown = (p as { ipam?: unknown }).ipam;
    if (isObject(ipam) && typeof ipam.type === 'string' && findIpam(ipam.type) === undefined)
      throw ScenarioError.at(
        at(['plugins', i, 'ipam', 'type']),
        `CNI configuration: failed to find plugin ${JSON.stringify(ipam.type)} in path [${CNI_BIN_DIR}]`,
      );
  });
}

/** The typed cluster section; throws the first ScenarioError in file order of its own checks. */
export function loadCluster(data: ClusterData, ctx: ClusterContext): Cluster {
  const pos = (path: PropertyKey[]): Pos => ({ file: ctx.file, ...ctx.lc.linePos(offsetOf(ctx.doc, path)) });
  const setupNs = new Set<string>();
  for (const c of ctx.setup ?? []) if (c.kind === 'netnsAdd') setupNs.add(c.name);

  const nodes = new Set<string>();
  data.nodes.forEach((n, i) => {
    const at = pos(['cluster', 'nodes', i, 'name']);
    if (n.name === 'root') throw ScenarioError.at(at, `node name 'root' is the initial namespace`);
    if (nodes.has(n.name)) throw ScenarioError.at(at, `node '${n.name}' is defined twice`);
    if (setupNs.has(n.name))
      throw ScenarioError.at(at, `node '${n.name}' clashes with a namespace of the same name created in setup`);
    nodes.add(n.name);
  });
  const pods = new Set<string>();
  data.pods.forEach((p, i) => {
    const at = pos(['cluster', 'pods', i, 'name']);
    if (p.name === 'root' || nodes.has(p.name) || setupNs.has(p.name))
      throw ScenarioError.at(
        at,
        `pod name '${p.name}' clashes with the namespace '${p.name}'; steps name pods as namespaces`,
      );
    if (pods.has(p.name)) throw ScenarioError.at(at, `pod '${p.name}' is defined twice`);
    pods.add(p.name);
    if (!nodes.has(p.node))
      throw ScenarioError.at(
        pos(['cluster', 'pods', i, 'node']),
        `unknown node '${p.node}' (cluster nodes: ${[...nodes].join(', ')})`,
      );
  });

  const cni = cniSource(data, ctx, pos);
  checkCni(cni);

  return {
    pos: pos(['cluster']),
    nodes: data.nodes.map((n, i) => ({
      pos: pos(['cluster', 'nodes', i]),
      name: n.name,
      // The schema's pattern admits only what parseCidr and parseIpv4 accept.
      address: parseCidr(n.address)!,
      ...(n.gateway !== undefined ? { gateway: parseIpv4(n.gateway)! } : {}),
    })),
    cni,
    pods: data.pods.map((p, i) => ({
      pos: pos(['cluster', 'pods', i]),
      name: p.name,
      node: p.node,
      namespace: p.namespace,
      ports: p.ports.map((m) => ({
        hostPort: m.hostPort,
        containerPort: m.containerPort,
        protocol: m.protocol.toLowerCase() as 'tcp' | 'udp',
        ...(m.hostIP !== undefined ? { hostIP: m.hostIP } : {}),
      })),
    })),
  };
}
