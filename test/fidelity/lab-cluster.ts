// A scenario's `cluster:` rebuilt in the kernel lab the way src/scenario/cluster.ts builds the emulated one, with
// the reference CNI plugin binaries (containernetworking-plugins in /usr/lib/cni) attaching the pods: the
// `underlay` bridge in the lab's stand-in for the initial namespace, each client of the underlay a namespace whose
// eth0 is a port of it (`veth-<client>`; address, lo up, optional default route), each node likewise (`veth-<node>`,
// plus bridge-nf-call-iptables=1), then — after whatever the caller adds to the nodes (`afterNodes`, e.g. flannel)
// — every pod in order as containerd starts its sandbox: a namespace (named after the pod, through the lab's
// naming), ADD of the loopback network, then ADD of each plugin of the configuration list with libcni's chaining
// (the previous plugin's result as `prevResult`, capability arguments as `runtimeConfig`). A plugin entry can be
// swapped for the configuration that really reaches a binary (`pluginConfig`: a meta-plugin's delegate). host-local
// keeps its store in the run's temporary directory, one per node. The pods are the scenario's `cluster.pods`, or
// the caller's list (pods Kubernetes started from manifests). Also here: the pod identifiers the emulator drew,
// flannel's share of a real node taken from the emulated one (startRealFlannel, savedDelegate), and the per-step
// comparison of outcomes the real-Linux cluster tests share.
// Limits: one segment; routers of a cluster are not built.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Node } from '../../src/cni/node.js';
import { DEFAULT_DATA_DIR } from '../../src/cni/plugins/flannel/conf.js';
import { enableNetfilter, iptablesSave } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import type { ProbeOutcome } from '../../src/netns/probe.js';
import type { Flanneld } from '../../src/overlay/flannel/flanneld.js';
import { flannelOf } from '../../src/scenario/cluster.js';
import { scenarioNs } from '../../src/scenario/runner.js';
import type { Cluster, ClusterPod, Scenario, Step } from '../../src/scenario/types.js';
import { type Cidr, formatCidr, formatIpv4, type Ipv4 } from '../../src/wire/addr.js';
import {
  kernelLabAvailable,
  type LabAvailability,
  type LabPrepareContext,
  type LabStepResult,
  runOk,
} from '../../tools/kernel-lab/index.js';
import { splitWords } from '../../tools/kernel-lab/shellwords.js';
import { icmpName } from './lab-input.js';

export const CNI_PATH = '/usr/lib/cni';
export const CMD_MS = 15_000;

export type Json = Record<string, unknown>;

/** The lab, the named plugin binaries and iptables (the bridge and portmap plugins run it). */
export function clusterLabAvailability(plugins: readonly string[]): LabAvailability {
  const lab = kernelLabAvailable();
  if (!lab.ok) return lab;
  const missing = plugins.filter((p) => !existsSync(join(CNI_PATH, p)));
  if (missing.length > 0) return { ok: false, why: `CNI plugins missing in ${CNI_PATH}: ${missing.join(', ')}` };
  if (!existsSync('/usr/sbin/iptables') && !existsSync('/sbin/iptables')) {
    return { ok: false, why: 'iptables (needed by the bridge and portmap plugins) is not installed' };
  }
  return { ok: true };
}

/** The identifiers the emulated runtime gave a pod (container ID, UID, namespace name). */
export interface PodIds {
  containerId: string;
  uid: string;
  netnsName: string;
}

/**
 * Node.addPod draws a pod's identifiers from a PRNG seeded with the kernel's seed, the node's name and the pod's
 * key only, so a scratch node with the same seed and name gives the emulator's identifiers for that pod. `files`
 * go into the scratch node first (flannel's subnet.env, without which its plugin refuses the ADD).
 */
export function emulatorPodIds(
  sc: Scenario,
  c: Cluster,
  p: ClusterPod,
  files: Readonly<Record<string, string>> = {},
): PodIds {
  const k = new Kernel({ seed: sc.seed });
  enableNetfilter(k);
  k.addNetns(p.node);
  const node = new Node(k, p.node, { name: p.node });
  for (const [path, text] of Object.entries(files)) node.fs.write(path, text);
  node.writeConfig(c.cni.fileName, c.cni.text);
  const pod = node.addPod(p.name, {
    namespace: p.namespace,
    ...(p.ports.length > 0 ? { capabilityArgs: { portMappings: p.ports } } : {}),
  });
  return { containerId: pod.containerId, uid: pod.uid, netnsName: pod.netns.name };
}

interface PluginCall {
  nodeNs: string;
  podNs: string;
  ifName: string;
  ids: PodIds;
  pod: ClusterPod;
  config: Json;
}

/** One plugin binary run as libcni runs it: environment per the CNI spec, configuration on stdin. */
async function execPlugin(call: PluginCall, ctx: LabPrepareContext): Promise<Json> {
  const type = String(call.config.type);
  const args = [
    'IgnoreUnknown=1',
    `K8S_POD_NAMESPACE=${call.pod.namespace}`,
    `K8S_POD_NAME=${call.pod.name}`,
    `K8S_POD_INFRA_CONTAINER_ID=${call.ids.containerId}`,
    `K8S_POD_UID=${call.ids.uid}`,
  ].join(';');
  const r = await runOk(
    'ip',
    [
      'netns',
      'exec',
      call.nodeNs,
      'env',
      'CNI_COMMAND=ADD',
      `CNI_CONTAINERID=${call.ids.containerId}`,
      `CNI_NETNS=/var/run/netns/${call.podNs}`,
      `CNI_IFNAME=${call.ifName}`,
      `CNI_PATH=${CNI_PATH}`,
      `CNI_ARGS=${args}`,
      join(CNI_PATH, type),
    ],
    {
      signal: ctx.signal,
      timeoutMs: CMD_MS,
      input: JSON.stringify(call.config),
      what: `CNI ADD ${type} for pod ${call.pod.name} (${call.ifName})`,
    },
  );
  return JSON.parse(r.stdout) as Json;
}

export interface RealClusterHooks {
  /** Runs once every node exists, before the first pod (a node agent's set-up: flanneld). */
  afterNodes?: (ctx: LabPrepareContext) => Promise<void>;
  /** The configuration a plugin binary really gets for `plugin` of the list (default: the entry itself). */
  pluginConfig?: (pod: ClusterPod, ids: PodIds, plugin: Json) => Json;
  /** The pods to start, in the order the emulator started them (default: the scenario's `cluster.pods`). */
  pods?: readonly ClusterPod[];
}

/** Builds the scenario's cluster in the lab; puts in `results` each pod's result from the last plugin. */
export async function buildRealCluster(
  c: Cluster,
  ids: ReadonlyMap<string, PodIds>,
  ctx: LabPrepareContext,
  results: Map<string, Json>,
  hooks: RealClusterHooks = {},
): Promise<void> {
  const { names, signal } = ctx;
  const seg = c.segments[0];
  if (c.segments.length !== 1 || seg?.name !== 'underlay' || c.routers.length > 0) {
    throw new Error('lab-cluster: only a cluster on the single default `underlay` segment, without routers, is built');
  }
  const ip = (args: string[]) => runOk('ip', args, { signal, timeoutMs: CMD_MS });
  const root = names.root;
  const mtu = String(seg.mtu);
  await ip(['-n', root, 'link', 'add', 'underlay', 'type', 'bridge']);
  await ip(['-n', root, 'link', 'set', 'underlay', 'up', 'mtu', mtu]);
  /** A host on the underlay, as cluster.ts's hostCommands makes it. */
  const host = async (name: string, address: Cidr, gateway: Ipv4 | undefined): Promise<string> => {
    const ns = names.map(name);
    const veth = `veth-${name}`;
    await ip(['netns', 'add', ns]);
    await ip(['-n', root, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ip(['-n', root, 'link', 'set', veth, 'master', 'underlay', 'up', 'mtu', mtu]);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'mtu', mtu]);
    await ip(['-n', ns, 'addr', 'add', formatCidr(address), 'dev', 'eth0']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    if (gateway !== undefined) await ip(['-n', ns, 'route', 'add', 'default', 'via', formatIpv4(gateway)]);
    return ns;
  };
  // The emulator builds the clients first, then the nodes.
  for (const h of c.clients) await host(h.name, h.address, h.gateway);
  for (const n of c.nodes) {
    const ns = await host(n.name, n.address, n.gateway);
    await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1'], {
      signal,
      timeoutMs: CMD_MS,
    });
  }
  if (hooks.afterNodes) await hooks.afterNodes(ctx);
  const list = JSON.parse(c.cni.text) as { cniVersion: string; name: string; plugins: Json[] };
  for (const p of hooks.pods ?? c.pods) {
    const podNs = names.map(p.name);
    const nodeNs = names.map(p.node);
    const podIds = ids.get(p.name)!;
    await ip(['netns', 'add', podNs]);
    const base = { nodeNs, podNs, ids: podIds, pod: p };
    // containerd's built-in cni-loopback network comes first.
    await execPlugin(
      { ...base, ifName: 'lo', config: { cniVersion: '0.3.1', name: 'cni-loopback', type: 'loopback' } },
      ctx,
    );
    const capabilityArgs: Json = p.ports.length > 0 ? { portMappings: p.ports } : {};
    let prev: Json | undefined;
    for (const entry of list.plugins) {
      const plugin = hooks.pluginConfig ? hooks.pluginConfig(p, podIds, entry) : entry;
      const config: Json = { ...plugin, cniVersion: list.cniVersion, name: list.name };
      const ipam = plugin.ipam as Json | undefined;
      // host-local's store goes to the run's temporary directory, one per node, never /var/lib/cni.
      if (ipam?.type === 'host-local') config.ipam = { ...ipam, dataDir: join(ctx.dir, `cni-${p.node}`) };
      const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
      const runtimeConfig: Json = {};
      for (const [cap, on] of Object.entries(caps))
        if (on && cap in capabilityArgs) runtimeConfig[cap] = capabilityArgs[cap];
      if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
      if (prev !== undefined) config.prevResult = prev;
      prev = await execPlugin({ ...base, ifName: 'eth0', config }, ctx);
    }
    results.set(p.name, prev ?? {});
  }
}

/** The emulated cluster's flanneld on `node`. */
export function flanneldOf(k: Kernel, node: string): Flanneld {
  const d = flannelOf(k)?.flanneld(node);
  if (!d) throw new Error(`the emulated cluster has no flanneld on ${node}`);
  return d;
}

/** flannel's rules in an iptables-save dump: its chains and the rules that jump into them. */
export function flannelRules(save: string): string {
  const out: string[] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith('*') || line === 'COMMIT') out.push(line);
    else if (line.startsWith(':FLANNEL-')) out.push(line);
    else if (/^-A FLANNEL-|^-A \S+ .*-j FLANNEL-/.test(line)) out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/**
 * flanneld's share of the real nodes, taken from the emulated nodes so that both carry the same MAC addresses:
 * transmit checksum offload off on eth0 (a capture then holds the checksums a wire would carry), each node's
 * flanneld operations (the `ip`/`bridge` ones: the flannel.1 device with its MAC, address, neighbour, FDB and
 * route entries) replayed verbatim, then its iptables rules (the FLANNEL-* chains and the jumps into them, from
 * the emulated node's iptables-save) loaded with `iptables-restore --noflush`.
 */
export async function startRealFlannel(c: Cluster, k: Kernel, ctx: LabPrepareContext): Promise<void> {
  const { names, signal } = ctx;
  const inNode = (ns: string, argv: string[], input?: string, what?: string) =>
    runOk('ip', ['netns', 'exec', ns, ...argv], {
      signal,
      timeoutMs: CMD_MS,
      ...(input !== undefined ? { input } : {}),
      ...(what !== undefined ? { what } : {}),
    });
  for (const n of c.nodes) {
    const ns = names.map(n.name);
    await inNode(ns, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    const d = flanneldOf(k, n.name);
    for (const op of d.log.ops) {
      const argv = splitWords(op.cmd).map((w) => w.text);
      // iptables operations come in below as the rules they left; a failed operation changed nothing.
      if ((argv[0] !== 'ip' && argv[0] !== 'bridge') || op.error !== undefined) continue;
      await inNode(ns, argv, undefined, `${n.name}: ${op.cmd}`);
    }
    await inNode(
      ns,
      ['iptables-restore', '--noflush'],
      flannelRules(iptablesSave(d.ns)),
      `${n.name}: iptables-restore`,
    );
  }
}

/** The delegate configuration the emulated flannel CNI plugin saved for the pod's container. */
export function savedDelegate(k: Kernel, node: string, ids: PodIds, plugin: Json): Json {
  const dataDir = typeof plugin.dataDir === 'string' ? plugin.dataDir : DEFAULT_DATA_DIR;
  const path = `${dataDir}/${ids.containerId}`;
  const bytes = flanneldOf(k, node).fs.read(path);
  if (bytes === undefined) throw new Error(`node ${node} has no ${path}`);
  return JSON.parse(bytes) as Json;
}

/** IPv4 addresses (CIDR) of a pod's eth0 in the emulator. */
export function emulatorPodAddrs(sc: Scenario, k: Kernel, pod: string): string[] {
  const ns = scenarioNs(k, pod);
  if (!ns) throw new Error(`${sc.file}: emulator has no namespace for pod ${pod}`);
  return ns.addrsOf(ns.dev('eth0')).map((a) => formatCidr({ addr: a.addr, len: a.len }));
}

/** The addresses the last plugin reported for each pod, next to the emulator's. */
export function expectPodAddrsAgree(
  sc: Scenario,
  k: Kernel,
  c: Cluster,
  results: ReadonlyMap<string, Json>,
  pods: readonly ClusterPod[] = c.pods,
): void {
  for (const p of pods) {
    const ips = ((results.get(p.name)?.ips ?? []) as { address: string }[]).map((i) => i.address);
    expect(emulatorPodAddrs(sc, k, p.name), `pod ${p.name} address`).toEqual(ips);
  }
}

/** One step: outcome, source and TTL of the reply or error, kind of ICMP error, and the server's answer. */
export function expectOutcomeAgrees(what: string, step: Step, e: ProbeOutcome, r: LabStepResult): void {
  expect({ result: e.result, replyFrom: e.replyFrom, replyTtl: e.replyTtl, icmp: icmpName(e.icmp) }, what).toEqual({
    result: r.result,
    replyFrom: r.replyFrom,
    replyTtl: r.replyTtl,
    icmp: icmpName(r.icmp),
  });
  if (step.kind === 'connect' && r.result === 'reachable') {
    expect(r.replyPayload, `${what}: Linux's reply payload`).toBeDefined();
    expect(e.replyPayload, `${what}: reply payload`).toBe(r.replyPayload);
  }
}
