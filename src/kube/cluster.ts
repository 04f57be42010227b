// A Kubernetes control plane in one object: the API store with the Service allocators, the kubelet-side pod
// lifecycle, the scheduler, the ReplicaSet, Deployment, EndpointSlice, mirroring and garbage-collection
// controllers, all reacting synchronously to the store's watch events. What the networking side needs:
//  - watch Pods (bound to a node → run the CNI ADD, then `podStarted(pod, ip)`; terminating → CNI DEL, then
//    `podStopped(pod)`), Services and EndpointSlices (kube-proxy);
//  - `applyManifest(text, file)` for `kubectl apply -f`, with errors placed at the manifest's line and column;
//  - nodes (`addNode`, `cordon`, `uncordon`, `drain`), `scale`, `delete`, `deletePod`, `setPodReady`.
// Like `kubeadm init`, it starts with the default namespaces and the `kubernetes` Service: the first address of the
// service CIDR, port 443 (https) to the API server at port 6443 on the given address or else the first node's, its
// Endpoints (skip-mirror) and EndpointSlice written as the API server's endpoint reconciler writes them.
// A manifest is parsed and checked completely before anything is applied, so a typo applies nothing; errors only
// found while applying (an address already allocated, a missing namespace) stop there, with the documents before
// it applied, as kubectl leaves them.

import { LABEL_HOSTNAME, LABEL_SERVICE_NAME } from '../proxy/model.js';
import type { Nanos } from '../sim/events.js';
import type { Rng } from '../sim/rng.js';
import { parseIpv4 } from '../wire/addr.js';
import { ClusterIpAllocator } from './alloc/clusterip.js';
import { NodePortAllocator } from './alloc/nodeport.js';
import { ServiceAllocator } from './alloc/service.js';
import { DeploymentController } from './controllers/deployment.js';
import { EndpointSliceController, MAX_ENDPOINTS_PER_SLICE } from './controllers/endpointslice.js';
import { GarbageCollector } from './controllers/gc.js';
import { Kubelet } from './controllers/kubelet.js';
import { EndpointsMirroringController } from './controllers/mirroring.js';
import { ReplicaSetController } from './controllers/replicaset.js';
import { Scheduler } from './controllers/scheduler.js';
import type { FieldErrorType } from './errors.js';
import { ApiError, ManifestError, notFound } from './errors.js';
import { kubectlName } from './kinds.js';
import type { ParseOptions } from './manifest.js';
import { parseManifest } from './manifest.js';
import { controllerRef, podKey, splitKey } from './pods.js';
import type { ApplyAction, WatchHandler } from './store.js';
import { ApiStore } from './store.js';
import type { Deployment, Kind, KindMap, KubeObject, Node, Pod, ReplicaSet, Service } from './types.js';
import { LABEL_SKIP_MIRROR } from './types.js';
import { clone } from './util.js';
import type { ObjectSource } from './yaml-pos.js';

export interface KubeClusterOptions {
  /** Randomness for cluster IPs, node ports, generated names and scheduling ties. */
  rng: Rng;
  /** --service-cluster-ip-range (default 10.96.0.0/12). */
  serviceCIDR?: string;
  /** --service-node-port-range (default 30000-32767). */
  nodePortRange?: string;
  /** The API server endpoint behind the `kubernetes` Service (default: the first node's address, port 6443). */
  apiServer?: { address?: string; port?: number };
  /** Virtual time for timestamps (default 0). */
  clock?: () => Nanos;
  maxEndpointsPerSlice?: number;
}

type Taint = NonNullable<Node['spec']['taints']>[number];

export interface AddNodeOptions {
  name: string;
  /** The node's InternalIP. */
  address: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  podCIDR?: string;
  unschedulable?: boolean;
}

export interface AppliedObject {
  kind: Kind;
  namespace?: string;
  name: string;
  action: ApplyAction;
  object: KubeObject;
}

/** kubectl's line for an applied object: `service/web created`. */
export function formatApplied(a: AppliedObject): string {
  return `${kubectlName(a.kind, a.name)} ${a.action}`;
}

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Field errors that name something missing are placed at the key, the rest at the value. */
const AT_KEY: ReadonlySet<FieldErrorType> = new Set(['Required', 'Forbidden']);

/** An API error placed in the manifest the object came from. */
export function placeError(e: ApiError, source: ObjectSource): ManifestError {
  const cause = e.causes[0];
  const path = cause?.path ?? e.at ?? [];
  const p = source.locate(path, { key: cause === undefined || AT_KEY.has(cause.type) });
  return new ManifestError(source.file, p.line, p.col, e.message, e);
}

export class KubeCluster {
  readonly store: ApiStore;
  readonly clusterIPs: ClusterIpAllocator;
  readonly nodePorts: NodePortAllocator;
  readonly kubelet: Kubelet;
  readonly scheduler: Scheduler;
  readonly endpointSlices: EndpointSliceController;
  readonly replicaSets: ReplicaSetController;
  readonly deployments: DeploymentController;
  readonly mirroring: EndpointsMirroringController;
  readonly gc: GarbageCollector;
  private apiAddress: string | undefined;
  readonly apiPort: number;

  constructor(opts: KubeClusterOptions) {
    this.clusterIPs = new ClusterIpAllocator(opts.serviceCIDR ?? '10.96.0.0/12', opts.rng);
    this.nodePorts = new NodePortAllocator(opts.nodePortRange ?? '30000-32767', opts.rng);
    const clock = opts.clock ?? (() => 0);
    this.store = new ApiStore({
      rng: opts.rng,
      clock,
      services: new ServiceAllocator(this.clusterIPs, this.nodePorts),
    });
    this.kubelet = new Kubelet(this.store, clock);
    this.scheduler = new Scheduler(this.store, opts.rng);
    this.replicaSets = new ReplicaSetController(this.store, this.kubelet);
    this.deployments = new DeploymentController(this.store);
    this.endpointSlices = new EndpointSliceController(this.store, opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE);
    this.mirroring = new EndpointsMirroringController(this.store);
    this.gc = new GarbageCollector(this.store, this.kubelet);
    for (const c of [
      this.kubelet,
      this.scheduler,
      this.replicaSets,
      this.deployments,
      this.endpointSlices,
      this.mirroring,
      this.gc,
    ]) {
      c.start();
    }
    this.apiPort = opts.apiServer?.port ?? 6443;
    for (const ns of DEFAULT_NAMESPACES) {
      this.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    this.store.create<Service>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: this.clusterIPs.at(0),
        ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: this.apiPort }],
        sessionAffinity: 'None',
      },
    });
    if (opts.apiServer?.address !== undefined) this.publishApiServer(opts.apiServer.address);
  }

  /** The `kubernetes` Service's Endpoints and EndpointSlice, as the API server's endpoint reconciler keeps them. */
  private publishApiServer(address: string): void {
    if (parseIpv4(address) === null) throw new RangeError(`API server address "${address}" is not an IPv4 address`);
    this.apiAddress = address;
    const port = { name: 'https', port: this.apiPort, protocol: 'TCP' as const };
    this.store.apply({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { [LABEL_SKIP_MIRROR]: 'true' } },
      subsets: [{ addresses: [{ ip: address }], ports: [port] }],
    });
    this.store.apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
      ports: [port],
    });
  }

  /** The API server's address (the first node's, unless configured). */
  get apiServerAddress(): string | undefined {
    return this.apiAddress;
  }

  // --- objects ---------------------------------------------------------------------------------------------------

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined {
    return this.store.get(kind, namespace, name);
  }

  list<K extends Kind>(kind: K, namespace?: string, filter?: (o: KindMap[K]) => boolean): KindMap[K][] {
    return this.store.list(kind, namespace, filter);
  }

  watch<K extends Kind>(kind: K | '*', handler: WatchHandler<KindMap[K]>): () => void {
    return this.store.watch(kind, handler);
  }

  /** `kubectl apply` of one object. Throws ApiError. */
  apply(obj: KubeObject): AppliedObject {
    const r = this.store.apply(obj);
    const o = r.object;
    return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, action: r.action, object: o };
  }

  /**
   * `kubectl apply -f file`: every document checked first, then applied in order. Throws ManifestError positioned
   * in `file`.
   */
  applyManifest(text: string, file: string, opts: ParseOptions = {}): AppliedObject[] {
    const objs = parseManifest(text, file, opts);
    for (const { object, source } of objs) {
      try {
        this.store.check(object);
      } catch (e) {
        throw e instanceof ApiError ? placeError(e, source) : e;
      }
    }
    const out: AppliedObject[] = [];
    for (const { object, source } of objs) {
      try {
        out.push(this.apply(object));
      } catch (e) {
        throw e instanceof ApiError ? placeError(e, source) : e;
      }
    }
    return out;
  }

  /** `kubectl delete`: pods terminate gracefully, owned objects follow (background cascading). */
  delete(kind: Kind, namespace: string | undefined, name: string): void {
    const ns = kind === 'Namespace' || kind === 'Node' ? undefined : (namespace ?? 'default');
    if (this.store.get(kind, ns, name) === undefined) throw notFound(kind, name);
    this.gc.deleteObject(kind, ns, name);
    if (kind === 'Node') {
      // PodGC removes the pods of a node that no longer exists, without grace. The Node goes first, so that the
      // replacements their controllers create at once cannot be scheduled onto it.
      for (const p of this.store.list('Pod', undefined, (p) => p.spec.nodeName === name)) {
        this.store.delete('Pod', p.metadata.namespace, p.metadata.name);
      }
    }
  }

  // --- nodes -----------------------------------------------------------------------------------------------------

  /** Registers a node as its kubelet would: Ready, InternalIP and Hostname addresses, hostname label. */
  addNode(opts: AddNodeOptions): Node {
    if (parseIpv4(opts.address) === null) throw new RangeError(`node address "${opts.address}" is not an IPv4 address`);
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: opts.name,
        labels: { 'kubernetes.io/os': 'linux', [LABEL_HOSTNAME]: opts.name, ...opts.labels },
      },
      spec: {
        ...(opts.podCIDR !== undefined ? { podCIDR: opts.podCIDR, podCIDRs: [opts.podCIDR] } : {}),
        ...(opts.taints !== undefined ? { taints: clone(opts.taints) } : {}),
        ...(opts.unschedulable ? { unschedulable: true } : {}),
      },
      status: {
        addresses: [
          { type: 'InternalIP', address: opts.address },
          { type: 'Hostname', address: opts.name },
        ],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    };
    const created = this.store.create(node);
    if (this.apiAddress === undefined) this.publishApiServer(opts.address);
    return created;
  }

  private node(name: string): Node {
    const n = this.store.get('Node', undefined, name);
    if (n === undefined) throw notFound('Node', name);
    return n;
  }

  private setUnschedulable(name: string, on: boolean): Node {
    const next = clone(this.node(name));
    if (on) next.spec.unschedulable = true;
    else delete next.spec.unschedulable;
    return this.store.writeStatus(next);
  }

  /** `kubectl cordon`. */
  cordon(name: string): Node {
    return this.setUnschedulable(name, true);
  }

  /** `kubectl uncordon`: pending pods are retried. */
  uncordon(name: string): Node {
    return this.setUnschedulable(name, false);
  }

  /**
   * `kubectl drain`: cordons the node and evicts its pods (they terminate; their controllers replace them on other
   * nodes). Like kubectl, refuses pods no controller would recreate unless `force`. Returns the evicted pods' keys.
   */
  drain(name: string, opts: { force?: boolean } = {}): string[] {
    this.node(name);
    const pods = this.store.list('Pod', undefined, (p) => p.spec.nodeName === name && !p.metadata.deletionTimestamp);
    const bare = pods.filter((p) => controllerRef(p) === undefined);
    if (bare.length > 0 && !opts.force) {
      throw new ApiError(
        'BadRequest',
        `cannot delete Pods that declare no controller (use --force to override): ${bare.map(podKey).join(', ')}`,
      );
    }
    this.cordon(name);
    return this.store.batch(() => {
      for (const p of pods) this.kubelet.deletePod(p.metadata.namespace ?? 'default', p.metadata.name);
      return pods.map(podKey);
    });
  }

  // --- workloads -------------------------------------------------------------------------------------------------

  /** `kubectl scale deployment/<name> --replicas=n` (a ReplicaSet's key works too). `key` is `namespace/name`. */
  scale(key: string, replicas: number): Deployment | ReplicaSet {
    const { namespace, name } = splitKey(key);
    const target = this.store.get('Deployment', namespace, name) ?? this.store.get('ReplicaSet', namespace, name);
    if (target === undefined) throw notFound('Deployment', name);
    const next = clone(target);
    next.spec.replicas = replicas;
    return this.store.update(next).object;
  }

  pod(key: string): Pod | undefined {
    const { namespace, name } = splitKey(key);
    return this.store.get('Pod', namespace, name);
  }

  /** `kubectl delete pod`: graceful; the pod terminates until `podStopped`. */
  deletePod(key: string): void {
    const { namespace, name } = splitKey(key);
    this.kubelet.deletePod(namespace, name);
  }

  /** The networking side set the pod's sandbox up with `ip`. */
  podStarted(key: string, ip: string): Pod {
    const { namespace, name } = splitKey(key);
    return this.kubelet.podStarted(namespace, name, ip);
  }

  /** The networking side tore a terminating pod's sandbox down. */
  podStopped(key: string): void {
    const { namespace, name } = splitKey(key);
    this.kubelet.podStopped(namespace, name);
  }

  /** Makes a pod ready or unready (the podwire.io/ready annotation); undefined restores the default (ready). */
  setPodReady(key: string, ready: boolean | undefined): Pod {
    const { namespace, name } = splitKey(key);
    return this.kubelet.setReady(namespace, name, ready);
  }
}
