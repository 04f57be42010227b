// The `cluster:` section of a scenario, from schema-checked data to the typed form the runner builds: node and
// pod names checked against each other and against the namespaces setup creates (steps name pods and nodes as
// namespaces, so one name must mean one thing), and the CNI configuration list read and validated now — as
// libcni would when the runtime loads it — so that `validate` reports a broken pod network. A configuration
// error points at the exact character inside an inline `config: |` block (or inside the referenced file); so do
// the manifests of `kubernetes:` (kube-load.ts).
// Errors that only a pod ADD can reveal (an exhausted pool, a range that fails at allocation) come later, from
// the runner. Limits: only IPv4; one pod network for every node.

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { isScalar } from 'yaml';
// Registers the bridge, loopback and portmap plugins (and host-local through the IPAM registry).
import '../cni/node.js';
import { findIpam } from '../cni/ipam/index.js';
import { KUBE_FLANNEL_CNI_CONF, KUBE_FLANNEL_CNI_CONF_NAME } from '../cni/plugins/flannel.js';
import { CNI_BIN_DIR, hasPlugin } from '../cni/registry.js';
import { parseConfList } from '../cni/spec/conf.js';
import { CniConfError } from '../cni/spec/errors.js';
import { isObject } from '../cni/spec/json.js';
import { CniError } from '../cni/types.js';
import { parseNetConf } from '../overlay/flannel/config.js';
import { FlannelConfigError } from '../overlay/flannel/go-json.js';
import { type Cidr, type Ipv4, parseCidr, parseIpv4 } from '../wire/addr.js';
import { ScenarioError } from './errors.js';
import { loadKubernetes } from './kube-load.js';
import type { ScenarioData } from './schema.js';
import type { Cluster, ClusterCni, ClusterFlannel, Command, Pos } from './types.js';
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

/** The segment (a bridge in the initial namespace) nodes are on when the scenario names none. */
export const DEFAULT_SEGMENT = 'underlay';

/** The name an inline configuration gets in the node's /etc/cni/net.d. */
export const INLINE_CONF_NAME = '10-podwire.conflist';

/** Offsets of the start of each line of `text`. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** Maps line:col of an inline block's value (at `path`) to file positions. */
export function inlineLocator(ctx: Omit<ClusterContext, 'setup'>, path: PropertyKey[], text: string, fallback: Pos) {
  const node = nodeAt(ctx.doc, path);
  const starts = lineStarts(text);
  const src = isScalar(node) ? scalarSource(ctx.text, node, ctx.file, ctx.lc) : undefined;
  return (line: number, col: number): Pos => {
    if (src === undefined) return fallback;
    const start = starts[Math.max(0, Math.min(line - 1, starts.length - 1))]!;
    return { file: ctx.file, ...src.locate(start + Math.max(0, col - 1)) };
  };
}

function cniSource(data: ClusterData, ctx: ClusterContext, pos: (path: PropertyKey[]) => Pos): ClusterCni {
  const cniPos = pos(['cluster', 'cni']);
  if (data.cni === undefined) {
    // Only reachable with flannel (checked by the caller): kube-flannel's cni-conf.json, as its DaemonSet installs it.
    return {
      pos: pos(['cluster', 'flannel']),
      fileName: KUBE_FLANNEL_CNI_CONF_NAME,
      text: KUBE_FLANNEL_CNI_CONF,
      locate: () => pos(['cluster', 'flannel']),
    };
  }
  if ('config' in data.cni) {
    const text = data.cni.config;
    return {
      pos: cniPos,
      fileName: INLINE_CONF_NAME,
      text,
      locate: inlineLocator(ctx, ['cluster', 'cni', 'config'], text, pos(['cluster', 'cni', 'config'])),
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

/** net-conf.json parsed as flanneld parses it at start-up; a mistake is an error at its character in the file. */
function checkFlannel(f: ClusterFlannel): void {
  try {
    parseNetConf(f.netConf, 'net-conf.json');
  } catch (e) {
    if (e instanceof FlannelConfigError) {
      const field = e.field ? `${e.field}: ` : '';
      throw ScenarioError.at(f.locate(e.line, e.col), `flannel net-conf.json: ${field}${e.reason}`);
    }
    throw e;
  }
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

  const underlay = data.underlay ?? { segments: [{ name: DEFAULT_SEGMENT }], routers: [], clients: [] };
  const taken = new Map<string, string>();
  const claim = (name: string, what: string, at: Pos): void => {
    if (name === 'root') throw ScenarioError.at(at, `${what} name 'root' is the initial namespace`);
    const prev = taken.get(name);
    if (prev !== undefined) throw ScenarioError.at(at, `${what} '${name}' clashes with the ${prev} of the same name`);
    if (setupNs.has(name))
      throw ScenarioError.at(at, `${what} '${name}' clashes with a namespace of the same name created in setup`);
    taken.set(name, what);
  };
  const segments = new Set<string>();
  underlay.segments.forEach((g, i) => {
    const at = pos(['cluster', 'underlay', 'segments', i, 'name']);
    if (segments.has(g.name)) throw ScenarioError.at(at, `segment '${g.name}' is defined twice`);
    segments.add(g.name);
  });
  const firstSegment = underlay.segments[0]!.name;
  const segmentOf = (name: string | undefined, path: PropertyKey[]): string => {
    if (name === undefined) return firstSegment;
    if (!segments.has(name))
      throw ScenarioError.at(pos(path), `unknown segment '${name}' (segments: ${[...segments].join(', ')})`);
    return name;
  };
  underlay.routers.forEach((r, i) => {
    claim(r.name, 'router', pos(['cluster', 'underlay', 'routers', i, 'name']));
    r.interfaces.forEach((f, j) => {
      segmentOf(f.segment, ['cluster', 'underlay', 'routers', i, 'interfaces', j, 'segment']);
    });
  });
  underlay.clients.forEach((c, i) => {
    claim(c.name, 'client', pos(['cluster', 'underlay', 'clients', i, 'name']));
  });
  const nodes = new Set<string>();
  data.nodes.forEach((n, i) => {
    const at = pos(['cluster', 'nodes', i, 'name']);
    if (nodes.has(n.name)) throw ScenarioError.at(at, `node '${n.name}' is defined twice`);
    claim(n.name, 'node', at);
    nodes.add(n.name);
  });
  if (data.cni === undefined && data.flannel === undefined)
    throw ScenarioError.at(pos(['cluster']), 'cluster needs a pod network: `cni` (a configuration list) or `flannel`');
  const pods = new Set<string>();
  data.pods.forEach((p, i) => {
    const at = pos(['cluster', 'pods', i, 'name']);
    if (p.name === 'root' || taken.has(p.name) || setupNs.has(p.name))
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

  const cidrOf = (text: string): Cidr => parseCidr(text)!; // the schema admits only what parseCidr accepts
  const ipOf = (text: string): Ipv4 => parseIpv4(text)!;
  let flannel: ClusterFlannel | undefined;
  if (data.flannel !== undefined) {
    const text = data.flannel.netConf;
    const at = pos(['cluster', 'flannel', 'netConf']);
    flannel = {
      pos: pos(['cluster', 'flannel']),
      netConf: text,
      ipMasq: data.flannel.ipMasq,
      locate: inlineLocator(ctx, ['cluster', 'flannel', 'netConf'], text, at),
    };
    checkFlannel(flannel);
  }
  const kubernetes =
    data.kubernetes === undefined
      ? undefined
      : loadKubernetes(data.kubernetes, {
          file: ctx.file,
          pos,
          inline: (path, text, fallback) => inlineLocator(ctx, path, text, fallback),
        });

  return {
    pos: pos(['cluster']),
    segments: underlay.segments.map((g, i) => ({
      pos: pos(['cluster', 'underlay', 'segments', i]),
      name: g.name,
      mtu: g.mtu ?? 1500,
    })),
    routers: underlay.routers.map((r, i) => ({
      pos: pos(['cluster', 'underlay', 'routers', i]),
      name: r.name,
      interfaces: r.interfaces.map((f) => ({ segment: f.segment, address: cidrOf(f.address) })),
    })),
    clients: underlay.clients.map((c, i) => ({
      pos: pos(['cluster', 'underlay', 'clients', i]),
      name: c.name,
      address: cidrOf(c.address),
      segment: segmentOf(c.segment, ['cluster', 'underlay', 'clients', i, 'segment']),
      ...(c.gateway !== undefined ? { gateway: ipOf(c.gateway) } : {}),
    })),
    nodes: data.nodes.map((n, i) => ({
      pos: pos(['cluster', 'nodes', i]),
      name: n.name,
      address: cidrOf(n.address),
      segment: segmentOf(n.segment, ['cluster', 'nodes', i, 'segment']),
      ...(n.gateway !== undefined ? { gateway: ipOf(n.gateway) } : {}),
      ...(n.podCIDR !== undefined ? { podCIDR: cidrOf(n.podCIDR) } : {}),
    })),
    ...(flannel !== undefined ? { flannel } : {}),
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
    ...(kubernetes !== undefined ? { kubernetes } : {}),
  };
}
