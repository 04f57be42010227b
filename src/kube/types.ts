// The Kubernetes objects podwire keeps besides those kube-proxy reads (src/proxy/model.ts): core/v1 Pod and
// Namespace, apps/v1 Deployment and ReplicaSet, in their JSON/YAML shape so a decoded manifest already is one. Only
// the fields the API server, the controllers and the scheduler here act on are typed; a manifest may carry more
// (resources, probes, volumes …), which are kept as written and otherwise ignored.
// Limits: IPv4 only; no init-container (sidecar) ports; readiness comes from the `podwire.io/ready` annotation, not
// from probes.

import type {
  EndpointAddress,
  EndpointConditions,
  EndpointPort,
  EndpointSlice,
  EndpointSliceEndpoint,
  EndpointSlicePort,
  EndpointSubset,
  Endpoints,
  Node,
  NodeAddress,
  NodeSpec,
  ObjectMeta,
  OwnerReference,
  Protocol,
  Service,
  ServicePort,
  ServiceSpec,
} from '../proxy/model.js';

export type {
  EndpointAddress,
  EndpointConditions,
  EndpointPort,
  EndpointSlice,
  EndpointSliceEndpoint,
  EndpointSlicePort,
  EndpointSubset,
  Endpoints,
  Node,
  NodeAddress,
  NodeSpec,
  ObjectMeta,
  OwnerReference,
  Protocol,
  Service,
  ServicePort,
  ServiceSpec,
};

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
  hostPort?: number;
  hostIP?: string;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: TaintEffect;
  tolerationSeconds?: number;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  hostname?: string;
  subdomain?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  schedulerName?: string;
  dnsPolicy?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready';
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface PodStatus {
  phase?: PodPhase;
  conditions?: PodCondition[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
}

export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

/** A pod template's metadata: no name of its own (the controller names the pods). */
export interface TemplateMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodTemplateSpec {
  metadata?: TemplateMeta;
  spec: PodSpec;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface RollingUpdateDeployment {
  maxSurge?: number | string;
  maxUnavailable?: number | string;
}

export interface DeploymentStrategy {
  type?: 'RollingUpdate' | 'Recreate';
  rollingUpdate?: RollingUpdateDeployment;
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

export interface ReplicaSetSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  minReadySeconds?: number;
}

export interface ReplicaSetStatus {
  observedGeneration?: number;
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

export interface ReplicaSet {
  apiVersion: 'apps/v1';
  kind: 'ReplicaSet';
  metadata: ObjectMeta;
  spec: ReplicaSetSpec;
  status?: ReplicaSetStatus;
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

export type KubeObject = Pod | Deployment | ReplicaSet | Namespace | Service | Endpoints | EndpointSlice | Node;

export type Kind = KubeObject['kind'];

export interface KindMap {
  Pod: Pod;
  Deployment: Deployment;
  ReplicaSet: ReplicaSet;
  Namespace: Namespace;
  Service: Service;
  Endpoints: Endpoints;
  EndpointSlice: EndpointSlice;
  Node: Node;
}

/** A pod annotation a scenario sets to "false" to make the pod's Ready condition False (its readiness probe fails). */
export const ANNOTATION_READY = 'podwire.io/ready';
/** ReplicaSet.spec.selector and the pods of a Deployment's ReplicaSet carry the template's hash under this label. */
export const LABEL_POD_TEMPLATE_HASH = 'pod-template-hash';
export const ANNOTATION_REVISION = 'deployment.kubernetes.io/revision';
export const ANNOTATION_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
export const LABEL_NAMESPACE_NAME = 'kubernetes.io/metadata.name';
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
export const DEFAULT_SCHEDULER = 'default-scheduler';
