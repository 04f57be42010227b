// Kubernetes on a scenario's cluster: the control plane (KubeCluster, drawing from the kernel's seeded PRNG, its
// clock the kernel's), every cluster node registered with its address and podCIDR (its flannel lease) and
// net.ipv4.ip_forward=1 (kubeadm's preflight requirement, next to bridge-nf-call-iptables=1), the default
// `kubernetes` Service at the first node's address:6443, and kube-proxy in iptables mode on every node writing into
// the node's namespace. Like the kubelet with containerd, a pod bound to a node gets its sandbox through the
// node's CNI runtime (Node.addPod, hostPorts as portMappings), its servers on every container port, its name as a
// namespace alias for steps and listeners, and is reported with podStarted; a terminating pod gets CNI DEL and
// podStopped. Every change goes in batches — the manifests at start, then each action step: the change is made,
// pods are started and stopped until nothing moves, then each kube-proxy syncs once if a Service, EndpointSlice or
// Node changed (what BoundedFrequencyRunner's coalescing gives), and the kernel runs what that set in motion.
// Each batch returns what happened in kubectl's and the runtime's words. LoadBalancer Services get their ingress
// address from a MetalLB-like provider (kube-lb.ts).
// Limits: no hostNetwork pods, no probes (readiness is the podwire.io/ready annotation), no health-check servers;
// a pod named like a node, client, router or another pod is refused, since steps name pods as namespaces.

import type { Node as CniNode } from '../cni/node.js';
import type { AppliedObject, Pod } from '../kube/index.js';
import { ApiError, formatApplied, KubeCluster, podKey, WatchHandlerError } from '../kube/index.js';
import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import type { FlannelNetwork } from '../overlay/flannel/network.js';
import { Proxier } from '../proxy/index.js';
import { formatCidr, formatIpv4, type Ipv4, parseIpv4 } from '../wire/addr.js';
import { cniScenarioError } from './cluster-load.js';
import { ScenarioError } from './errors.js';
import { LoadBalancerController } from './kube-lb.js';
import { manifestScenarioError } from './kube-load.js';
import { type PodPort, startPodServers } from './kube-server.js';
import type { Cluster, ClusterKubernetes, KubeManifest, Pos, ServiceRef, StepAction } from './types.js';

export interface KubeBuild {
  kernel: Kernel;
  cluster: Cluster;
  kube: ClusterKubernetes;
  /** The CNI runtime of every node. */
  nodes: ReadonlyMap<string, CniNode>;
  /** Names steps and listeners use for namespaces; pods are added and removed here. */
  aliases: Map<string, NetNs>;
  flannel?: FlannelNetwork;
}

/** A pod's sandbox as this runtime started it. */
export interface Sandbox {
  key: string;
  uid: string;
  name: string;
  namespace: string;
  node: string;
  netns: NetNs;
  ip: string;
}

const runtimes = new WeakMap<Kernel, KubeRuntime>();

/** The Kubernetes runtime of a kernel built from a scenario with `cluster.kubernetes`. */
export function kubeOf(k: Kernel): KubeRuntime | undefined {
  return runtimes.get(k);
}

/** The first subnet of the pod network's IPAM (host-local `subnet` or `ranges`), for --cluster-cidr. */
function cniSubnet(text: string): string | undefined {
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch {
    return undefined;
  }
  const plugins = (conf as { plugins?: unknown }).plugins;
  for (const p of Array.isArray(plugins) ? plugins : [conf]) {
    const ipam = (p as { ipam?: { subnet?: unknown; ranges?: unknown } } | null)?.ipam;
    if (typeof ipam?.subnet === 'string') return ipam.subnet;
    const first = Array.isArray(ipam?.ranges) && Array.isArray(ipam.ranges[0]) ? ipam.ranges[0][0] : undefined;
    const subnet = (first as { subnet?: unknown } | undefined)?.subnet;
    if (typeof subnet === 'string') return subnet;
  }
  return undefined;
}

function containerPorts(pod: Pod): { ports: PodPort[]; mappings: Record<string, unknown>[] } {
  const ports: PodPort[] = [];
  const mappings: Record<string, unknown>[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      if (protocol === 'SCTP') continue;
      const proto = protocol === 'UDP' ? 'udp' : 'tcp';
      ports.push({ proto, port: p.containerPort });
      if (p.hostPort)
        mappings.push({
          hostPort: p.hostPort,
          containerPort: p.containerPort,
          protocol: proto,
          ...(p.hostIP ? { hostIP: p.hostIP } : {}),
        });
    }
  }
  return { ports, mappings };
}

export class KubeRuntime {
  readonly api: KubeCluster;
  readonly proxiers = new Map<string, Proxier>();
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly k: Kernel;
  private dirty = false;
  private lines: string[] = [];

  constructor(private readonly b: KubeBuild) {
    const k = b.kernel;
    this.k = k;
    const kube = b.kube;
    this.api = new KubeCluster({
      rng: k.rng,
      serviceCIDR: kube.serviceCIDR,
      nodePortRange: kube.nodePortRange,
      clock: () => k.now,
    });
    const clusterCIDR =
      kube.kubeProxy.clusterCIDR ??
      (b.flannel ? formatCidr(b.flannel.config.network) : undefined) ??
      cniSubnet(b.cluster.cni.text);
    for (const n of b.cluster.nodes) {
      const address = formatIpv4(n.address.addr);
      const lease = b.flannel?.sm.node(n.name)?.lease?.subnet ?? n.podCIDR;
      this.api.addNode({ name: n.name, address, ...(lease ? { podCIDR: formatCidr(lease) } : {}) });
      const kp = kube.kubeProxy;
      const host = b.nodes.get(n.name)!.host;
      // kubeadm's preflight demands it (a node forwards Service traffic even before any pod of its own runs).
      host.sysctl.set('net.ipv4.ip_forward', '1');
      this.proxiers.set(
        n.name,
        new Proxier({
          nodeName: n.name,
          nodeIPs: [address],
          ...(clusterCIDR !== undefined ? { clusterCIDR } : {}),
          masqueradeAll: kp.masqueradeAll,
          masqueradeBit: kp.masqueradeBit,
          nodePortAddresses: kp.nodePortAddresses,
          localhostNodePorts: kp.localhostNodePorts,
          ns: host,
        }),
      );
    }
    this.informers();
    new LoadBalancerController(this.api, kube.loadBalancerPool).start();
    runtimes.set(k, this);
  }

  /** kube-proxy's informers: the initial list, then every change, fed to every node's change trackers. */
  private informers(): void {
    const each = (f: (p: Proxier) => void): void => {
      for (const p of this.proxiers.values()) f(p);
      this.dirty = true;
    };
    for (const s of this.api.list('Service')) each((p) => p.onServiceAdd(s));
    for (const s of this.api.list('EndpointSlice')) each((p) => p.onEndpointSliceAdd(s));
    this.api.watch('Service', (ev) => {
      if (ev.type === 'ADDED') each((p) => p.onServiceAdd(ev.object));
      else if (ev.type === 'MODIFIED') each((p) => p.onServiceUpdate(ev.oldObject!, ev.object));
      else each((p) => p.onServiceDelete(ev.object));
    });
    this.api.watch('EndpointSlice', (ev) => {
      if (ev.type === 'ADDED') each((p) => p.onEndpointSliceAdd(ev.object));
      else if (ev.type === 'MODIFIED') each((p) => p.onEndpointSliceUpdate(ev.oldObject!, ev.object));
      else each((p) => p.onEndpointSliceDelete(ev.object));
    });
    this.api.watch('Node', (ev) => {
      this.dirty = true;
      const p = this.proxiers.get(ev.object.metadata.name);
      const before = JSON.stringify(ev.oldObject?.metadata.labels ?? {});
      if (p && ev.type === 'MODIFIED' && before !== JSON.stringify(ev.object.metadata.labels ?? {}))
        p.onTopologyChange({ ...ev.object.metadata.labels });
    });
  }

  /** The manifests of `cluster.kubernetes`, in order, then the first sync. */
  start(): void {
    for (const m of this.b.kube.manifests) this.batch(m.pos, () => this.applyManifest(m));
    this.batch(this.b.kube.pos, () => []);
  }

  // --- batches -----------------------------------------------------------------------------------------------------

  /** Makes a change, lets pods start and stop, syncs kube-proxy; returns the lines of what happened. */
  batch(pos: Pos, change: () => string[]): string[] {
    this.lines = [];
    const said = this.guard(pos, change);
    this.lines.unshift(...said);
    this.settle(pos);
    this.sync();
    return this.lines;
  }

  /** API errors as scenario errors at `pos`. */
  private guard<T>(pos: Pos, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const cause = e instanceof WatchHandlerError ? e.cause : e;
      if (cause instanceof ScenarioError) throw cause;
      if (cause instanceof ApiError) throw ScenarioError.at(pos, cause.message);
      throw cause;
    }
  }

  private applyManifest(m: KubeManifest): string[] {
    let applied: AppliedObject[];
    try {
      applied = this.api.applyManifest(m.text, m.file);
    } catch (e) {
      if (e instanceof WatchHandlerError) throw e;
      throw manifestScenarioError(e, m, '');
    }
    return applied.map(formatApplied);
  }

  /** Pods bound to a node start, terminating pods stop, sandboxes of vanished pods go; until nothing changes. */
  private settle(pos: Pos): void {
    for (let round = 0; round < 100_000; round++) if (!this.guard(pos, () => this.settleOne(pos))) return;
    throw new Error('pods did not settle');
  }

  private nodeAlive(name: string): CniNode | undefined {
    const node = this.b.nodes.get(name);
    return node && this.k.namespaces.get(node.host.name) === node.host && this.proxiers.has(name) ? node : undefined;
  }

  private settleOne(pos: Pos): boolean {
    for (const sb of this.sandboxes.values()) {
      const pod = this.api.pod(sb.key);
      if (pod === undefined || pod.metadata.uid !== sb.uid) {
        this.teardown(sb, pos);
        return true;
      }
      if (pod.metadata.deletionTimestamp !== undefined) {
        this.teardown(sb, pos);
        this.api.podStopped(sb.key);
        return true;
      }
    }
    for (const pod of this.api.list('Pod')) {
      const key = podKey(pod);
      if (this.sandboxes.has(key)) continue;
      if (pod.metadata.deletionTimestamp !== undefined) {
        if (!pod.status?.podIP) continue;
        this.api.podStopped(key);
        return true;
      }
      const nodeName = pod.spec.nodeName;
      if (!nodeName || pod.status?.podIP || !this.nodeAlive(nodeName)) continue;
      this.startPod(pod, nodeName, pos);
      return true;
    }
    return false;
  }

  private startPod(pod: Pod, nodeName: string, pos: Pos): void {
    const key = podKey(pod);
    const name = pod.metadata.name;
    const namespace = pod.metadata.namespace ?? 'default';
    if (this.b.aliases.has(name) || this.k.namespaces.has(name))
      throw ScenarioError.at(
        pos,
        `pod ${key}: its name clashes with the namespace '${name}'; steps name pods as namespaces, so pod names must differ from node, client, router and other pod names`,
      );
    const node = this.nodeAlive(nodeName)!;
    const { ports, mappings } = containerPorts(pod);
    let sandbox: ReturnType<CniNode['addPod']>;
    try {
      sandbox = node.addPod(name, {
        namespace,
        ...(mappings.length > 0 ? { capabilityArgs: { portMappings: mappings } } : {}),
      });
    } catch (e) {
      throw cniScenarioError(e, this.b.cluster.cni, pos, `pod ${key} on node ${nodeName}`);
    }
    this.k.run(this.k.now);
    const netns = sandbox.netns;
    const eth0 = netns.addrs.find((a) => a.dev.name === 'eth0');
    if (eth0 === undefined)
      throw ScenarioError.at(pos, `pod ${key} on node ${nodeName}: the pod network gave eth0 no address`);
    const ip = formatIpv4(eth0.addr);
    try {
      startPodServers(netns, name, ports);
    } catch (e) {
      throw ScenarioError.at(pos, `pod ${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.b.aliases.set(name, netns);
    this.sandboxes.set(key, { key, uid: pod.metadata.uid ?? '', name, namespace, node: nodeName, netns, ip });
    this.api.podStarted(key, ip);
    const served = ports.map((p) => `${p.port}/${p.proto}`).join(', ');
    this.lines.push(`pod/${name} started on ${nodeName}: ${ip}${served ? `, serving ${served}` : ''}`);
  }

  private teardown(sb: Sandbox, pos: Pos): void {
    const node = this.nodeAlive(sb.node);
    if (node) {
      try {
        node.deletePod(sb.name, sb.namespace);
      } catch (e) {
        throw cniScenarioError(e, this.b.cluster.cni, pos, `stopping pod ${sb.key} on node ${sb.node}`);
      }
    } else if (this.k.namespaces.get(sb.netns.name) === sb.netns) {
      this.k.delNetns(sb.netns.name);
    }
    this.k.run(this.k.now);
    if (this.b.aliases.get(sb.name) === sb.netns) this.b.aliases.delete(sb.name);
    this.sandboxes.delete(sb.key);
    this.lines.push(`pod/${sb.name} stopped on ${sb.node}`);
  }

  /** One syncProxyRules per node if anything kube-proxy watches changed; a failed restore is retried in full. */
  private sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const done: string[] = [];
    for (const [name, p] of this.proxiers) {
      let r = p.syncProxyRules();
      if (r.error !== null) r = p.syncProxyRules();
      if (r.error !== null) throw new Error(`kube-proxy on ${name}: ${r.error.message}`);
      done.push(name);
    }
    this.k.run(this.k.now);
    if (done.length > 0) this.lines.push(`kube-proxy synced iptables on ${done.join(', ')}`);
  }

  // --- actions -----------------------------------------------------------------------------------------------------

  /** Carries out a Kubernetes step; returns what happened, in words. */
  action(action: Exclude<StepAction, { kind: 'leave' }>, pos: Pos): string[] {
    switch (action.kind) {
      case 'apply':
        return this.batch(pos, () => this.applyManifest(action.manifest));
      case 'delete':
        return this.batch(pos, () => {
          this.api.delete(action.resource, action.namespace, action.name);
          const what = action.resource === 'Deployment' ? 'deployment.apps' : action.resource.toLowerCase();
          return [`${what} "${action.name}" deleted`];
        });
      case 'scale':
        return this.batch(pos, () => {
          this.api.scale(`${action.namespace}/${action.deployment}`, action.replicas);
          return [`deployment.apps/${action.deployment} scaled`];
        });
      case 'cordon':
        return this.batch(pos, () => {
          this.api.cordon(action.node);
          return [`node/${action.node} cordoned`];
        });
      case 'uncordon':
        return this.batch(pos, () => {
          this.api.uncordon(action.node);
          return [`node/${action.node} uncordoned`];
        });
      case 'drain':
        return this.batch(pos, () => {
          const evicted = this.api.drain(action.node);
          return [
            `node/${action.node} cordoned`,
            ...evicted.map((p) => `evicting pod ${p}`),
            `node/${action.node} drained`,
          ];
        });
    }
  }

  /**
   * The node left (its machine is gone): its kube-proxy stops, its pods' sandboxes went with it, and the Node
   * object is deleted, which deletes its pods (PodGC) so that their controllers replace them elsewhere.
   */
  nodeGone(node: string, pos: Pos): string[] {
    return this.batch(pos, () => {
      this.proxiers.delete(node);
      for (const sb of [...this.sandboxes.values()]) {
        if (sb.node !== node) continue;
        if (this.k.namespaces.get(sb.netns.name) === sb.netns) this.k.delNetns(sb.netns.name);
        if (this.b.aliases.get(sb.name) === sb.netns) this.b.aliases.delete(sb.name);
        this.sandboxes.delete(sb.key);
      }
      if (this.api.get('Node', undefined, node) === undefined) return [];
      // A node that is gone stops being Ready and gets the node controller's NoSchedule taint before it is deleted,
      // so no replacement pod is bound to it while its pods are removed.
      this.api.cordon(node);
      this.api.delete('Node', undefined, node);
      return [`node "${node}" deleted`];
    });
  }

  // --- lookups for steps -------------------------------------------------------------------------------------------

  /** The pod sandbox started under this name (pod names are unique: they are namespace aliases). */
  sandbox(name: string): Sandbox | undefined {
    for (const sb of this.sandboxes.values()) if (sb.name === name) return sb;
    return undefined;
  }

  /** Names of the running pods a Deployment controls (through its ReplicaSets). */
  deploymentPods(namespace: string, name: string): Set<string> {
    const d = this.api.get('Deployment', namespace, name);
    const out = new Set<string>();
    if (d === undefined) return out;
    const owned = (o: { metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }, uid?: string) =>
      o.metadata.ownerReferences?.some((r) => r.controller && r.uid === uid) ?? false;
    const rss = this.api.list('ReplicaSet', namespace, (rs) => owned(rs, d.metadata.uid));
    for (const rs of rss)
      for (const p of this.api.list('Pod', namespace, (p) => owned(p, rs.metadata.uid))) out.add(p.metadata.name);
    return out;
  }

  /** Every address of a node's own namespace but loopback (eth0, cni0, flannel.1 …): the sources SNAT may pick. */
  nodeAddrs(node: string): string[] {
    const host = this.b.nodes.get(node)?.host;
    return (host?.addrs ?? []).filter((a) => a.addr >>> 24 !== 127).map((a) => formatIpv4(a.addr));
  }

  /** A node's InternalIP. */
  nodeAddress(node: string): string | undefined {
    return this.api.get('Node', undefined, node)?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  }

  /** The address and port a Service reference means now; throws a ScenarioError at `pos` when it means nothing. */
  resolve(ref: ServiceRef, pos: Pos): { to: Ipv4; port: number } {
    const svc = this.api.get('Service', ref.namespace, ref.name);
    const fail = (why: string): never => {
      throw ScenarioError.at(pos, `${ref.text}: ${why}`);
    };
    if (svc === undefined) return fail(`service "${ref.name}" not found in namespace "${ref.namespace}"`);
    const ports = svc.spec.ports ?? [];
    const sp =
      ref.port === undefined
        ? undefined
        : ports.find((p) => (typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port));
    if (ref.port !== undefined && sp === undefined) {
      const have = ports.map((p) => (p.name ? `${p.name} (${p.port})` : String(p.port))).join(', ');
      fail(`service "${ref.name}" has no port ${ref.port} (ports: ${have || 'none'})`);
    }
    const port = sp?.port ?? 0;
    const ipOf = (text: string | undefined, what: string): Ipv4 => {
      const ip = text === undefined ? null : parseIpv4(text);
      return ip === null ? fail(what) : ip;
    };
    switch (ref.kind) {
      case 'svc': {
        if (svc.spec.type === 'ExternalName') fail(`service "${ref.name}" is an ExternalName Service: no cluster IP`);
        if (svc.spec.clusterIP === 'None') fail(`service "${ref.name}" is headless (clusterIP: None)`);
        return { to: ipOf(svc.spec.clusterIP, `service "${ref.name}" has no cluster IP`), port };
      }
      case 'lb': {
        const ingress = svc.status?.loadBalancer?.ingress?.find((i) => i.ip !== undefined)?.ip;
        return {
          to: ipOf(ingress, `service "${ref.name}" has no load-balancer ingress IP (status.loadBalancer.ingress)`),
          port,
        };
      }
      case 'nodeport': {
        if (sp?.nodePort === undefined)
          fail(`service "${ref.name}" port ${port} has no node port (type ${svc.spec.type})`);
        const node = ref.node!;
        return { to: ipOf(this.nodeAddress(node), `node ${node} is not in the cluster`), port: sp!.nodePort! };
      }
    }
  }
}
