// The Kubernetes control plane podwire emulates: manifests in, API objects and watch events out. KubeCluster is the
// entry point; the store, parser, validators, allocators and controllers are exported for tests and for callers
// that assemble their own.

export { AllocationError, ClusterIpAllocator, ipRangeOffset } from './alloc/clusterip.js';
export { NodePortAllocator, type PortRange, parsePortRange, portRangeOffset } from './alloc/nodeport.js';
export { type AllocTxn, ServiceAllocator } from './alloc/service.js';
export {
  type AddNodeOptions,
  type AppliedObject,
  DEFAULT_NAMESPACES,
  formatApplied,
  KubeCluster,
  type KubeClusterOptions,
  placeError,
} from './cluster.js';
export { DeploymentController, podTemplateHash } from './controllers/deployment.js';
export { EndpointSliceController, findPort, MAX_ENDPOINTS_PER_SLICE } from './controllers/endpointslice.js';
export { GarbageCollector } from './controllers/gc.js';
export { Kubelet } from './controllers/kubelet.js';
export { EndpointsMirroringController } from './controllers/mirroring.js';
export { rankForDeletion } from './controllers/ranking.js';
export { ReplicaSetController } from './controllers/replicaset.js';
export { filterNode, Scheduler } from './controllers/scheduler.js';
export { applyDefaults } from './defaults.js';
export {
  ApiError,
  type FieldError,
  type FieldPath,
  formatFieldError,
  formatPath,
  ManifestError,
  type StatusReason,
} from './errors.js';
export { KINDS, kubectlName, qualifiedKind } from './kinds.js';
export { type ManifestObject, type ParseOptions, parseManifest } from './manifest.js';
export { isPodReady, podKey, splitKey } from './pods.js';
export { matchesMap, matchesSelector } from './selectors.js';
export {
  ApiStore,
  type ApiStoreOptions,
  type ApplyAction,
  type ApplyResult,
  type WatchEvent,
  type WatchEventType,
  type WatchHandler,
  WatchHandlerError,
} from './store.js';
export * from './types.js';
export { validateCreate, validateUpdate } from './validate/index.js';
export type { LinePos, ObjectSource } from './yaml-pos.js';
