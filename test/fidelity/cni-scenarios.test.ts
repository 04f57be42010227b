// Fidelity: the cluster scenarios replayed in real Linux, their pods attached by the reference CNI plugin binaries
// (containernetworking-plugins in /usr/lib/cni), must agree with the emulator step by step: outcome, source and
// TTL of the reply or ICMP error, kind of ICMP error and the server's answer. The real cluster is built as
// src/scenario/cluster.ts builds the emulated one: the `underlay` bridge in the lab's stand-in for the initial
// namespace, each node a namespace whose eth0 is a port of it (address, lo up, bridge-nf-call-iptables=1), then
// every pod in order as containerd starts its sandbox: a namespace (named after the pod, through the lab's
// naming), ADD of the loopback network, then ADD of each plugin of the configuration list with libcni's chaining
// (the previous plugin's result as `prevResult`, capability arguments as `runtimeConfig`). host-local keeps its
// store in the run's temporary directory. Root only; skipped with a message when the lab or the plugins are
// missing. Limits: iptables rule text is not compared; `via:` hops are not compared.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Node } from '../../src/cni/node.js';
import { enableNetfilter } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { loadScenario } from '../../src/scenario/loader.js';
import { runScenario, scenarioNs } from '../../src/scenario/runner.js';
import type { Cluster, ClusterPod, Scenario } from '../../src/scenario/types.js';
import { formatCidr, formatIpv4 } from '../../src/wire/addr.js';
import { kernelLabAvailable, type LabPrepareContext, runKernelLab, runOk } from '../../tools/kernel-lab/index.js';
import { icmpName, labInput } from './lab-input.js';

const CNI_PATH = '/usr/lib/cni';
const PLUGINS = ['loopback', 'bridge', 'host-local', 'portmap'];
const CMD_MS = 15_000;

function availability(): { ok: true } | { ok: false; why: string } {
  const lab = kernelLabAvailable();
  if (!lab.ok) return lab;
  const missing = PLUGINS.filter((p) => !existsSync(join(CNI_PATH, p)));
  if (missing.length > 0) return { ok: false, why: `CNI plugins missing in ${CNI_PATH}: ${missing.join(', ')}` };
  if (!existsSync('/usr/sbin/iptables') && !existsSync('/sbin/iptables')) {
    return { ok: false, why: 'iptables (needed by the bridge and portmap plugins) is not installed' };
  }
  return { ok: true };
}

const avail = availability();
if (!avail.ok) console.warn(`skipping real-Linux CNI fidelity tests: ${avail.why}`);

const dir = join(import.meta.dirname, '../../scenarios');

/** The identifiers the emulated runtime gave a pod (container ID, UID, namespace name). */
interface PodIds {
  containerId: string;
  uid: string;
  netnsName: string;
}

/**
 * Node.addPod draws a pod's identifiers from a PRNG seeded with the kernel's seed, the node's name and the pod's
 * key only, so a scratch node with the same seed and name gives the emulator's identifiers for that pod.
 */
function emulatorPodIds(sc: Scenario, c: Cluster, p: ClusterPod): PodIds {
  const k = new Kernel({ seed: sc.seed });
  enableNetfilter(k);
  k.addNetns(p.node);
  const node = new Node(k, p.node, { name: p.node });
  node.writeConfig(c.cni.fileName, c.cni.text);
  const pod = node.addPod(p.name, {
    namespace: p.namespace,
    ...(p.ports.length > 0 ? { capabilityArgs: { portMappings: p.ports } } : {}),
  });
  return { containerId: pod.containerId, uid: pod.uid, netnsName: pod.netns.name };
}

type Json = Record<string, unknown>;

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

/** Builds the scenario's cluster in the lab; puts in `results` each pod's result from the last plugin. */
async function buildRealCluster(
  c: Cluster,
  ids: Map<string, PodIds>,
  ctx: LabPrepareContext,
  results: Map<string, Json>,
): Promise<void> {
  const { names, signal } = ctx;
  const ip = (args: string[]) => runOk('ip', args, { signal, timeoutMs: CMD_MS });
  const root = names.root;
  await ip(['-n', root, 'link', 'add', 'underlay', 'type', 'bridge']);
  await ip(['-n', root, 'link', 'set', 'underlay', 'up']);
  for (const n of c.nodes) {
    const ns = names.map(n.name);
    const veth = `veth-${n.name}`;
    await ip(['netns', 'add', ns]);
    await ip(['-n', root, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ip(['-n', root, 'link', 'set', veth, 'master', 'underlay', 'up']);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', ns, 'addr', 'add', formatCidr(n.address), 'dev', 'eth0']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1'], {
      signal,
      timeoutMs: CMD_MS,
    });
    if (n.gateway !== undefined) await ip(['-n', ns, 'route', 'add', 'default', 'via', formatIpv4(n.gateway)]);
  }
  const list = JSON.parse(c.cni.text) as { cniVersion: string; name: string; plugins: Json[] };
  for (const p of c.pods) {
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
    for (const plugin of list.plugins) {
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

/** IPv4 addresses (CIDR) of a pod's eth0 in the emulator. */
function emulatorPodAddrs(sc: Scenario, k: Kernel, pod: string): string[] {
  const ns = scenarioNs(k, pod);
  if (!ns) throw new Error(`${sc.file}: emulator has no namespace for pod ${pod}`);
  return ns.addrsOf(ns.dev('eth0')).map((a) => formatCidr({ addr: a.addr, len: a.len }));
}

describe.skipIf(!avail.ok)('emulator agrees with real Linux and the reference CNI plugins', () => {
  for (const file of ['cni-two-pods.yaml', 'cni-hostport.yaml']) {
    it(file, { timeout: 60_000 }, async () => {
      const sc = loadScenario(join(dir, file));
      const c = sc.cluster!;
      const emu = runScenario(sc, { tracing: false });
      const ids = new Map<string, PodIds>();
      for (const p of c.pods) {
        const podIds = emulatorPodIds(sc, c, p);
        // The scratch node drew the same identifiers as the scenario's run: same sandbox namespace name.
        expect(podIds.netnsName, `pod ${p.name}`).toBe(scenarioNs(emu.kernel, p.name)?.name);
        ids.set(p.name, podIds);
      }
      const results = new Map<string, Json>();
      const real = await runKernelLab(labInput(sc), {
        timeoutMs: 50_000,
        prepare: (ctx) => buildRealCluster(c, ids, ctx, results),
      });
      for (const p of c.pods) {
        const ips = ((results.get(p.name)?.ips ?? []) as { address: string }[]).map((i) => i.address);
        expect(emulatorPodAddrs(sc, emu.kernel, p.name), `pod ${p.name} address`).toEqual(ips);
      }
      expect(real.length).toBe(sc.steps.length);
      sc.steps.forEach((step, i) => {
        const e = emu.steps[i]!.outcome;
        if (e.result === 'done') throw new Error(`${file}: action steps are not replayed`);
        const r = real[i]!;
        const what = `${file} step ${i + 1} (${step.name ?? step.kind})`;
        expect(
          { result: e.result, replyFrom: e.replyFrom, replyTtl: e.replyTtl, icmp: icmpName(e.icmp) },
          what,
        ).toEqual({ result: r.result, replyFrom: r.replyFrom, replyTtl: r.replyTtl, icmp: icmpName(r.icmp) });
        if (step.kind === 'connect' && r.result === 'reachable') {
          expect(r.replyPayload, `${what}: Linux's reply payload`).toBeDefined();
          expect(e.replyPayload, `${what}: reply payload`).toBe(r.replyPayload);
        }
      });
    });
  }
});
