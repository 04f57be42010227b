// A Kubernetes node as the container runtime (containerd's CRI plugin with go-cni) sees its pod networking: a
// host network namespace (its underlay interface made by the caller), the node's files (/etc/cni/net.d, the CNI
// result cache, IPAM stores) and the pods it runs. Starting a pod sandbox:
//   1. a new network namespace, named as containerd names it (`cni-` + 16 random bytes, /var/run/netns/cni-…);
//   2. ADD of containerd's built-in loopback network ("cni-loopback", 0.3.1, plugin loopback, interface lo);
//   3. ADD of the pod network: the lexically first .conf/.conflist/.json in /etc/cni/net.d, interface eth0, with
//      CNI_ARGS IgnoreUnknown=1;K8S_POD_NAMESPACE=…;K8S_POD_NAME=…;K8S_POD_INFRA_CONTAINER_ID=…;K8S_POD_UID=… and
//      the capability arguments given (portMappings, bandwidth, …).
// A failure undoes everything (DEL of what was added, namespace deleted) before it is reported, as containerd's
// deferred clean-up does. Stopping the sandbox runs DEL for both networks (go-cni's order) and deletes the
// namespace. The container ID (64 hex digits), pod UID and namespace name are drawn from a PRNG seeded with the
// kernel's seed, the node and the pod, so they are the same on every run and do not depend on other draws.
// Loading this module registers the bridge, flannel, loopback and portmap plugins.

import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import { Rng } from '../sim/rng.js';
import { MemFs } from './fs.js';
import './plugins/bridge.js';
import './plugins/flannel.js';
import './plugins/loopback.js';
import './plugins/portmap.js';
import { addNetworkList, checkNetworkList, delNetworkList, netnsPath, type RuntimeConf } from './runtime.js';
import { DEFAULT_CONF_DIR, loadDefaultNetwork, type NetworkConfigList, parseConfList } from './spec/conf.js';
import { asCniError } from './spec/errors.js';
import { versionAtLeast } from './spec/version.js';
import { CniError, type PluginEnv, type Result } from './types.js';

/** containerd's loopback network, added to every sandbox before the pod network. */
export const LOOPBACK_NETWORK = `{
"cniVersion": "0.3.1",
"name": "cni-loopback",
"plugins": [{
  "type": "loopback"
}]
}`;

export interface NodeOptions {
  /** The node's name (part of the seed of its pods' identifiers). Default: the host namespace's name. */
  name?: string;
  fs?: MemFs;
  confDir?: string;
  /** Add containerd's cni-loopback network to every pod (default true). */
  loopbackNetwork?: boolean;
}

export interface AddPodOptions {
  namespace?: string;
  ifName?: string;
  /** Extra CNI_ARGS pairs (after the K8S_* ones). */
  args?: Record<string, string>;
  capabilityArgs?: Record<string, unknown>;
}

interface Attachment {
  net: NetworkConfigList;
  rt: RuntimeConf;
  result: Result;
}

export interface Pod {
  name: string;
  namespace: string;
  uid: string;
  containerId: string;
  netns: NetNs;
  netnsPath: string;
  /** The pod network's result (in its configuration's version). */
  result: Result;
  /** Every network attached, in the order they were added. */
  readonly attachments: readonly Attachment[];
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function hex(rng: Rng, bytes: number): string {
  let out = '';
  while (out.length < bytes * 2) out += rng.u32().toString(16).padStart(8, '0');
  return out.slice(0, bytes * 2);
}

function uuidOf(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class Node {
  readonly kernel: Kernel;
  readonly host: NetNs;
  readonly name: string;
  readonly fs: MemFs;
  readonly confDir: string;
  readonly env: PluginEnv;
  private readonly loopback: boolean;
  private readonly podsByKey = new Map<string, Pod>();

  constructor(kernel: Kernel, host: NetNs | string, opts: NodeOptions = {}) {
    this.kernel = kernel;
    this.host = typeof host === 'string' ? kernel.netns(host) : host;
    this.name = opts.name ?? this.host.name;
    this.fs = opts.fs ?? new MemFs();
    this.confDir = opts.confDir ?? DEFAULT_CONF_DIR;
    this.loopback = opts.loopbackNetwork ?? true;
    this.env = { kernel, host: this.host, fs: this.fs };
  }

  /** Puts a configuration file into the node's CNI configuration directory. */
  writeConfig(fileName: string, text: string): void {
    this.fs.write(`${this.confDir}/${fileName}`, text);
  }

  /** The pod network the runtime would use now. */
  defaultNetwork(): NetworkConfigList {
    return loadDefaultNetwork(this.fs, this.confDir);
  }

  pod(name: string, namespace = 'default'): Pod | undefined {
    return this.podsByKey.get(`${namespace}/${name}`);
  }

  pods(): Pod[] {
    return [...this.podsByKey.values()];
  }

  /** RunPodSandbox's networking: a namespace, then ADD of the loopback and pod networks. */
  addPod(name: string, opts: AddPodOptions = {}): Pod {
    const namespace = opts.namespace ?? 'default';
    const key = `${namespace}/${name}`;
    if (this.podsByKey.has(key)) throw new CniError(7, `pod ${key} already has a sandbox on node ${this.name}`);
    const net = this.defaultNetwork();
    const rng = new Rng(fnv1a(`${this.kernel.rng.seed}\0${this.name}\0${key}`));
    const containerId = hex(rng, 32);
    const uid = uuidOf(hex(rng, 16));
    const netns = this.kernel.addNetns(`cni-${uuidOf(hex(rng, 16))}`);
    const args: Record<string, string> = {
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: namespace,
      K8S_POD_NAME: name,
      K8S_POD_INFRA_CONTAINER_ID: containerId,
      K8S_POD_UID: uid,
      ...(opts.args ?? {}),
    };
    const base = { containerId, netns, args, ...(opts.capabilityArgs ? { capabilityArgs: opts.capabilityArgs } : {}) };
    const attachments: Attachment[] = [];
    try {
      if (this.loopback) {
        const lo = parseConfList(LOOPBACK_NETWORK, '<cni-loopback>');
        const rt: RuntimeConf = { ...base, ifName: 'lo' };
        attachments.push({ net: lo, rt, result: addNetworkList(lo, rt, this.env) });
      }
      const rt: RuntimeConf = { ...base, ifName: opts.ifName ?? 'eth0' };
      attachments.push({ net, rt, result: addNetworkList(net, rt, this.env) });
    } catch (e) {
      const cleanup: string[] = [];
      for (const a of attachments) {
        try {
          delNetworkList(a.net, a.rt, this.env);
        } catch (d) {
          cleanup.push(asCniError(d).message);
        }
      }
      this.kernel.delNetns(netns.name);
      const err = asCniError(e);
      if (cleanup.length === 0) throw err;
      throw new CniError(
        err.code,
        err.message,
        [err.details, `clean-up failed: ${cleanup.join('; ')}`].filter(Boolean).join('; '),
      );
    }
    const pod: Pod = {
      name,
      namespace,
      uid,
      containerId,
      netns,
      netnsPath: netnsPath(netns),
      result: attachments[attachments.length - 1]!.result,
      attachments,
    };
    this.podsByKey.set(key, pod);
    return pod;
  }

  /** CHECK of every network of the pod whose version has CHECK (0.4.0 on; cni-loopback is 0.3.1). */
  checkPod(name: string, namespace = 'default'): void {
    const pod = this.requirePod(name, namespace);
    for (const a of pod.attachments)
      if (versionAtLeast(a.net.list.cniVersion, '0.4.0')) checkNetworkList(a.net, a.rt, this.env);
  }

  /** StopPodSandbox's networking: DEL of each network, then the namespace goes. A failing DEL keeps the pod. */
  deletePod(name: string, namespace = 'default'): void {
    const pod = this.requirePod(name, namespace);
    for (const a of pod.attachments) delNetworkList(a.net, a.rt, this.env);
    this.kernel.delNetns(pod.netns.name);
    this.podsByKey.delete(`${namespace}/${name}`);
  }

  private requirePod(name: string, namespace: string): Pod {
    const pod = this.pod(name, namespace);
    if (!pod) throw new CniError(3, `pod ${namespace}/${name} has no sandbox on node ${this.name}`);
    return pod;
  }
}
