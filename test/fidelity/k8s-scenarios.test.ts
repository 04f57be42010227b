// Fidelity: Kubernetes Service scenarios replayed in real Linux with the emulator's own rules must agree with the
// emulator step by step — outcome, reply source and ICMP kind, which endpoints served, the source each saw and the
// TTL its reply arrived with. The real cluster is lab-cluster.ts's (underlay, its clients, nodes, flanneld's share
// from the emulated run, then every pod the emulated kubelet started — same name, same order per node, attached by
// the real bridge plugin with the delegate configuration the emulated flannel plugin saved — so host-local hands
// out the same addresses, which is checked). Then each real node gets its emulated twin's state as kube-proxy left
// it: the sysctls that shape Service traffic (net.ipv4.ip_forward, bridge-nf-call-iptables, route_localnet, which
// kube-proxy sets for localhost NodePorts), the nfacct objects kube-proxy created (`nfacct add`, per namespace:
// xt_nfacct refuses a rule naming a missing object; without the nfacct tool the `-m nfacct` matches, which only
// count, are cut out of the rules and a warning says so), and the emulated node's whole `iptables-save` — mangle,
// filter and nat: kube-proxy's KUBE-* chains (-m statistic, -m recent, -m addrtype, MASQUERADE --random-fully),
// flannel's FLANNEL-* chains, whatever the CNI plugins wrote — loaded with a flushing `iptables-restore` after the
// pods are attached. Loading last and flushing, rather than `--noflush` with duplicates filtered out, leaves every
// table the dump names holding exactly the emulator's rules in the emulator's order, whatever the real flannel
// replay and plugins put there before (flannel's delegate has ipMasq false, so the bridge plugin writes no rule,
// and portmap writes none without port mappings); what they did put there is first checked to be in the dump, so
// the flush hides no rule the emulator lacks. After the load the real iptables-save must equal the emulator's,
// table by table (counters and comment lines aside): the kernel runs the very rules the emulator ran.
// Steps naming a Service (`svc/…`, `nodeport/…@node`, `lb/…`) are resolved with the emulated API (cluster IPs and
// node ports are deterministic) and a step with `repeat: N` becomes N connects. Each pod's container ports are
// served in Linux by a lab listener answering `<pod> {peer}`, the `<pod> <ip>:<port>` text the emulated pod servers
// write. Compared per attempt: result, reply source, ICMP kind (and reply TTL and text when no pod answered); the
// answering pod must be in the step's servedBy set (pod names, a Deployment's pods, a node's pods; any pod when
// none is stated) in both. Which source a pod sees (the client's own, or the masquerading node's address, which
// MASQUERADE takes from the outgoing interface) and how many hops its reply crosses depend on the pod's node, and
// a Service with endpoints on several nodes picks one at random on each side, so sources and TTLs are compared per
// node that both sides reached (every attempt, when all endpoints share a node). Over a repeated step of at least
// 20 attempts without `spread: false`, the answering pods must be the whole servedBy set in both (two endpoints at
// 50/50: Linux leaves one out with probability 2^-19); with `spread: false` (ClientIP affinity) one pod must answer
// every attempt in both; shorter repeated steps get the per-answer checks only. Source ports are not compared:
// both sides draw them at random. Action steps (apply, scale, delete …) are not replayed: only scenarios without
// them are listed. Root only; skipped with a message when the lab, the CNI plugins, ethtool, iptables-save or
// iptables-restore are missing.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iptablesSave } from '../../src/iptables/index.js';
import { nfacctStore } from '../../src/iptables/matches/nfacct.js';
import type { Pod } from '../../src/kube/index.js';
import type { Kernel } from '../../src/netns/kernel.js';
import type { KubeRuntime } from '../../src/scenario/kube.js';
import { kubeOf } from '../../src/scenario/kube.js';
import { parsePodReply } from '../../src/scenario/kube-server.js';
import { type Attempt, resolveStep } from '../../src/scenario/kube-steps.js';
import { loadScenario } from '../../src/scenario/loader.js';
import { buildScenario, runAttempts, scenarioNs } from '../../src/scenario/runner.js';
import type { Cluster, ClusterPod, PortMapping, ProbeStep, Scenario } from '../../src/scenario/types.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import {
  type LabListener,
  type LabPrepareContext,
  type LabStep,
  type LabStepResult,
  runKernelLab,
  runOk,
} from '../../tools/kernel-lab/index.js';
import {
  buildRealCluster,
  CMD_MS,
  clusterLabAvailability,
  emulatorPodIds,
  expectPodAddrsAgree,
  flanneldOf,
  type Json,
  type PodIds,
  savedDelegate,
  startRealFlannel,
} from './lab-cluster.js';
import { icmpName, labListeners, labStep, setupLines } from './lab-input.js';

const TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const hasTool = (tool: string) => TOOL_DIRS.some((d) => existsSync(join(d, tool)));

function availability(): { ok: true } | { ok: false; why: string } {
  const a = clusterLabAvailability(['loopback', 'bridge', 'host-local', 'portmap']);
  if (!a.ok) return a;
  for (const tool of ['ethtool', 'iptables-save', 'iptables-restore']) {
    if (!hasTool(tool)) return { ok: false, why: `${tool} is not installed` };
  }
  return { ok: true };
}

const avail = availability();
if (!avail.ok) console.warn(`skipping real-Linux Kubernetes Service fidelity tests: ${avail.why}`);
const haveNfacct = hasTool('nfacct');

const dir = join(import.meta.dirname, '../../scenarios');

/** The sysctls of a node that decide what happens to Service traffic. */
const NODE_SYSCTLS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'net.ipv4.conf.all.route_localnet'];

/** What a real node is given from its emulated twin once the pods are attached. */
interface NodeState {
  name: string;
  sysctls: [string, string][];
  nfacct: string[];
  /** The emulated node's iptables-save, as loaded into the real node. */
  rules: string;
}

/** What the real node's iptables held before and after the emulator's rules were loaded. */
interface RealRules {
  before: string;
  after: string;
}

/** A pod the emulated kubelet started, with what its servers listen on. */
interface RunningPod {
  pod: ClusterPod;
  ports: { proto: 'tcp' | 'udp'; port: number }[];
}

/** `-m nfacct --nfacct-name NAME` cut out of every rule (the match only counts). */
const stripNfacct = (save: string) => save.replace(/ -m nfacct --nfacct-name +\S+/g, '');

/** An iptables-save dump per table: chain lines with their counters zeroed and rule lines, comments dropped. */
function tables(save: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      cur = [];
      out.set(line.slice(1), cur);
    } else if (line.startsWith(':')) cur?.push(line.replace(/\[\d+:\d+\]$/, '[0:0]'));
    else if (line.startsWith('-A ')) cur?.push(line);
  }
  return out;
}

/** The Service-facing state of each emulated node, read before any step ran. */
function nodeStates(k: Kernel, c: Cluster): NodeState[] {
  return c.nodes.map((n) => {
    const host = scenarioNs(k, n.name);
    if (!host) throw new Error(`the emulator has no namespace for node ${n.name}`);
    const save = iptablesSave(host);
    return {
      name: n.name,
      sysctls: NODE_SYSCTLS.map((key): [string, string] => [key, host.sysctl.get(key)]),
      nfacct: [...nfacctStore(host).objects.keys()],
      rules: haveNfacct ? save : stripNfacct(save),
    };
  });
}

/** Every running pod of the emulated cluster, in the order host-local gave out addresses on each node. */
function runningPods(kube: KubeRuntime, c: Cluster): RunningPod[] {
  const pos = c.kubernetes!.pos;
  const out: (RunningPod & { ip: number })[] = [];
  for (const p of kube.api.list('Pod') as Pod[]) {
    const sb = kube.sandbox(p.metadata.name);
    if (!sb || sb.uid !== p.metadata.uid) continue;
    const ports: RunningPod['ports'] = [];
    const mappings: PortMapping[] = [];
    for (const ct of p.spec.containers) {
      for (const cp of ct.ports ?? []) {
        if (cp.protocol === 'SCTP') continue;
        const proto = cp.protocol === 'UDP' ? 'udp' : 'tcp';
        ports.push({ proto, port: cp.containerPort });
        if (cp.hostPort) {
          mappings.push({
            hostPort: cp.hostPort,
            containerPort: cp.containerPort,
            protocol: proto,
            ...(cp.hostIP ? { hostIP: cp.hostIP } : {}),
          });
        }
      }
    }
    const pod: ClusterPod = { pos, name: sb.name, node: sb.node, namespace: sb.namespace, ports: mappings };
    out.push({ pod, ports, ip: parseIpv4(sb.ip) ?? 0 });
  }
  // host-local gives each node's addresses out in order (no wrap-around in a fresh /24), so address order is the
  // order the kubelet started the pods in.
  return out.sort((a, b) => a.ip - b.ip).map(({ pod, ports }) => ({ pod, ports }));
}

/** Sysctls, nfacct objects and the emulated node's rules, given to every real node once its pods are attached. */
async function loadNodeStates(
  states: readonly NodeState[],
  ctx: LabPrepareContext,
  real: Map<string, RealRules>,
): Promise<void> {
  const { names, signal } = ctx;
  const inNode = (ns: string, argv: string[], what: string, input?: string) =>
    runOk('ip', ['netns', 'exec', ns, ...argv], {
      signal,
      timeoutMs: CMD_MS,
      what,
      ...(input !== undefined ? { input } : {}),
    });
  for (const st of states) {
    const ns = names.map(st.name);
    for (const [key, value] of st.sysctls) await inNode(ns, ['sysctl', '-qw', `${key}=${value}`], `${st.name}: sysctl`);
    if (haveNfacct) for (const a of st.nfacct) await inNode(ns, ['nfacct', 'add', a], `${st.name}: nfacct add ${a}`);
    const before = (await inNode(ns, ['iptables-save'], `${st.name}: iptables-save`)).stdout;
    await inNode(ns, ['iptables-restore'], `${st.name}: iptables-restore of the emulated node's rules`, st.rules);
    const after = (await inNode(ns, ['iptables-save'], `${st.name}: iptables-save`)).stdout;
    real.set(st.name, { before, after });
  }
}

/**
 * The pods a step's servedBy names, among the running pods (`stated`), or every running pod when it names none —
 * then an answer must only come from some pod.
 */
function servedBySet(
  kube: KubeRuntime,
  step: ProbeStep,
  pods: readonly RunningPod[],
): { pods: Set<string>; stated: boolean } {
  const by = step.expect.servedBy;
  if (by === undefined) return { pods: new Set(pods.map((p) => p.pod.name)), stated: false };
  const out = new Set<string>();
  for (const s of by) {
    if (s.kind === 'pod') out.add(s.name);
    else if (s.kind === 'deployment') for (const p of kube.deploymentPods(s.namespace, s.name)) out.add(p);
    else for (const p of pods) if (p.pod.node === s.node) out.add(p.pod.name);
  }
  return { pods: out, stated: true };
}

/** Attempts a repeated step needs before both sides must have reached every endpoint (1 in 2^19 for two). */
const MIN_SPREAD_ATTEMPTS = 20;

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** What pods on one node saw and sent back over a step: the sources they saw, the TTLs their replies arrived with. */
interface NodeAnswers {
  seen: string[];
  ttl: number[];
}

/** One scenario step: the emulator's attempts against Linux's. */
function compareStep(
  what: string,
  step: ProbeStep,
  emu: readonly Attempt[],
  real: readonly LabStepResult[],
  served: { pods: Set<string>; stated: boolean },
  nodeOf: ReadonlyMap<string, string>,
): void {
  const allowed = served.pods;
  expect(real.length, `${what}: attempts in Linux`).toBe(emu.length);
  const ePods: string[] = [];
  const rPods: string[] = [];
  const eNodes = new Map<string, NodeAnswers>();
  const rNodes = new Map<string, NodeAnswers>();
  const note = (m: Map<string, NodeAnswers>, pod: string, peer: string, ttl: number | undefined) => {
    const node = nodeOf.get(pod) ?? '?';
    const a = m.get(node) ?? { seen: [], ttl: [] };
    a.seen.push(peer);
    if (ttl !== undefined) a.ttl.push(ttl);
    m.set(node, a);
  };
  emu.forEach((a, j) => {
    const e = a.outcome;
    const r = real[j]!;
    const at = emu.length > 1 ? `${what}, attempt ${j + 1}/${emu.length}` : what;
    expect({ result: e.result, replyFrom: e.replyFrom, icmp: icmpName(e.icmp) }, at).toEqual({
      result: r.result,
      replyFrom: r.replyFrom,
      icmp: icmpName(r.icmp),
    });
    const ea = step.kind === 'connect' && r.result === 'reachable' ? parsePodReply(e.replyPayload) : undefined;
    const ra = step.kind === 'connect' && r.result === 'reachable' ? parsePodReply(r.replyPayload) : undefined;
    if (ea === undefined || ra === undefined) {
      // No pod's server answered (an error, or a listener of the scenario's own): all must be the same.
      expect({ replyTtl: e.replyTtl, replyPayload: e.replyPayload }, at).toEqual({
        replyTtl: r.replyTtl,
        replyPayload: r.result === 'reachable' ? r.replyPayload : undefined,
      });
      return;
    }
    ePods.push(ea.pod);
    rPods.push(ra.pod);
    note(eNodes, ea.pod, ea.peer, e.replyTtl);
    note(rNodes, ra.pod, ra.peer, r.replyTtl);
    expect([...allowed], `${at}: the emulator's answer "${e.replyPayload}" from a servedBy pod`).toContain(ea.pod);
    expect([...allowed], `${at}: Linux's answer "${r.replyPayload}" from a servedBy pod`).toContain(ra.pod);
  });
  if (ePods.length === 0 && rPods.length === 0) return;
  // The source a pod sees (cni0's or flannel.1's address when masqueraded) and the hops its reply crosses depend on
  // the pod's node, so they are compared per node both sides reached; with every allowed pod on one node, that is
  // every attempt.
  for (const [node, e] of eNodes) {
    const r = rNodes.get(node);
    if (r === undefined) continue;
    expect(sorted(e.seen), `${what}: sources pods on ${node} saw (emulator vs Linux)`).toEqual(sorted(r.seen));
    expect(sorted(e.ttl.map(String)), `${what}: TTLs of replies from ${node}'s pods`).toEqual(
      sorted(r.ttl.map(String)),
    );
  }
  const spread = step.expect.spread;
  // With fewer attempts Linux's random picks leave an endpoint out too often: then only each answer is checked.
  if (emu.length >= MIN_SPREAD_ATTEMPTS && spread !== false && served.stated) {
    expect(sorted(ePods), `${what}: pods that answered in the emulator`).toEqual(sorted(allowed));
    expect(sorted(rPods), `${what}: pods that answered in Linux`).toEqual(sorted(allowed));
  } else if (spread === false) {
    expect(new Set(ePods).size, `${what}: one pod answered every attempt in the emulator`).toBe(1);
    expect(new Set(rPods).size, `${what}: one pod answered every attempt in Linux`).toBe(1);
  }
}

interface EmulatedStep {
  step: ProbeStep;
  attempts: Attempt[];
  lab: LabStep;
}

function runEmulator(sc: Scenario): { k: Kernel; kube: KubeRuntime; states: NodeState[]; steps: EmulatedStep[] } {
  const k = buildScenario(sc, { tracing: false });
  const kube = kubeOf(k);
  if (!kube) throw new Error(`${sc.file}: the scenario runs no Kubernetes`);
  const states = nodeStates(k, sc.cluster!);
  const steps = sc.steps.map((step): EmulatedStep => {
    if (step.kind === 'action') throw new Error(`${sc.file}: '${step.action.kind}' steps are not replayed`);
    const lab = labStep(resolveStep(k, step));
    return { step, attempts: runAttempts(k, step), lab };
  });
  return { k, kube, states, steps };
}

describe.skipIf(!avail.ok)(
  'emulator agrees with real Linux on Kubernetes Services (kube-proxy rules in real iptables)',
  () => {
    for (const file of [
      'k8s-fidelity.yaml',
      'k8s-nodeport.yaml',
      'k8s-clusterip-same-node.yaml',
      'k8s-clusterip-same-node-nf0.yaml',
      'k8s-hairpin.yaml',
      'k8s-loadbalancer.yaml',
      'k8s-demo.yaml',
      'k8s-session-affinity.yaml',
    ]) {
      it(file, { timeout: 300_000 }, async () => {
        if (!haveNfacct)
          console.warn(`${file}: nfacct not installed: -m nfacct matches are left out of the real rules`);
        const sc = loadScenario(join(dir, file));
        const c = sc.cluster!;
        const { k, kube, states, steps } = runEmulator(sc);
        const pods = runningPods(kube, c);
        const nodeOf = new Map(pods.map((p) => [p.pod.name, p.pod.node]));
        const ids = new Map<string, PodIds>();
        for (const { pod } of pods) {
          const d = flanneldOf(k, pod.node);
          const podIds = emulatorPodIds(sc, c, pod, { [d.subnetFile]: d.subnetEnv() ?? '' });
          // The scratch node drew the same identifiers as the kubelet's sandbox: same namespace name.
          expect(podIds.netnsName, `pod ${pod.name}`).toBe(kube.sandbox(pod.name)?.netns.name);
          ids.set(pod.name, podIds);
        }
        const podServers: LabListener[] = pods.flatMap(({ pod, ports }) =>
          ports.map((p) => ({ ns: pod.name, proto: p.proto, port: p.port, reply: `${pod.name} {peer}` })),
        );
        const labSteps = steps.flatMap((s) => s.attempts.map(() => s.lab));
        const results = new Map<string, Json>();
        const rules = new Map<string, RealRules>();
        const real = await runKernelLab(
          { setup: setupLines(sc), listen: [...labListeners(sc), ...podServers], steps: labSteps },
          {
            timeoutMs: 240_000,
            prepare: async (ctx) => {
              await buildRealCluster(c, ids, ctx, results, {
                afterNodes: (x) => startRealFlannel(c, k, x),
                pluginConfig: (p, podIds, plugin) =>
                  plugin.type === 'flannel' ? savedDelegate(k, p.node, podIds, plugin) : plugin,
                pods: pods.map((p) => p.pod),
              });
              await loadNodeStates(states, ctx, rules);
            },
          },
        );
        expectPodAddrsAgree(
          sc,
          k,
          c,
          results,
          pods.map((p) => p.pod),
        );
        for (const st of states) {
          const got = rules.get(st.name)!;
          const emulated = tables(st.rules);
          // Whatever the real flannel replay and CNI plugins wrote is in the emulated node's dump too.
          for (const [table, lines] of tables(got.before)) {
            const have = emulated.get(table) ?? [];
            expect(
              lines.filter((l) => !have.includes(l)),
              `${st.name}: rules in table ${table} the real plugins wrote, missing from the emulated node`,
            ).toEqual([]);
          }
          expect(Object.fromEntries(tables(got.after)), `${st.name}: real iptables-save after the load`).toEqual(
            Object.fromEntries(emulated),
          );
        }
        expect(real.length).toBe(labSteps.length);
        let at = 0;
        steps.forEach((s, i) => {
          const n = s.attempts.length;
          const what = `${file} step ${i + 1} (${s.step.name ?? s.step.kind})`;
          compareStep(what, s.step, s.attempts, real.slice(at, at + n), servedBySet(kube, s.step, pods), nodeOf);
          at += n;
        });
      });
    }
  },
);
