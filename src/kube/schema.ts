// The shape of each kind as the API server decodes it: every field of the v1 types podwire accepts, with its JSON
// type and the Go struct it belongs to (for `json: cannot unmarshal … into Go struct field ServicePort.spec.ports.port
// of type int32`). A field is either modelled, known but without effect here (kept, ignored: resources, probes,
// volumes …), unsupported (it would change what the network does and podwire does not model it: a Forbidden error
// naming the field, unless its value is the harmless default) or server-set (dropped from a manifest, as the API
// server resets uid, resourceVersion and status on create). Anything else is an unknown field, rejected as
// `kubectl apply`'s strict field validation does.

export type Schema =
  | { t: 'string' | 'int32' | 'int64' | 'bool' | 'intstr' | 'strmap' | 'any' }
  | { t: 'list'; of: Schema }
  | { t: 'struct'; go: string; fields: Readonly<Record<string, Field>> };

export type Field =
  | Schema
  | { mod: 'unsupported'; s: Schema; why: string; harmless: (v: unknown) => boolean }
  | { mod: 'drop'; s: Schema };

const str: Schema = { t: 'string' };
const i32: Schema = { t: 'int32' };
const i64: Schema = { t: 'int64' };
const bool: Schema = { t: 'bool' };
const intstr: Schema = { t: 'intstr' };
const strmap: Schema = { t: 'strmap' };
const any: Schema = { t: 'any' };
const list = (of: Schema): Schema => ({ t: 'list', of });
const struct = (go: string, fields: Record<string, Field>): Schema => ({ t: 'struct', go, fields });
const drop = (s: Schema): Field => ({ mod: 'drop', s });
const empty = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
const unsupported = (s: Schema, why: string, harmless: (v: unknown) => boolean = empty): Field => ({
  mod: 'unsupported',
  s,
  why,
  harmless,
});

const ownerReference = struct('OwnerReference', {
  apiVersion: str,
  kind: str,
  name: str,
  uid: str,
  controller: bool,
  blockOwnerDeletion: bool,
});

export const objectMeta = struct('ObjectMeta', {
  name: str,
  generateName: str,
  namespace: str,
  labels: strmap,
  annotations: strmap,
  ownerReferences: list(ownerReference),
  finalizers: list(str),
  selfLink: drop(str),
  uid: drop(str),
  resourceVersion: drop(str),
  generation: drop(i64),
  creationTimestamp: drop(any),
  deletionTimestamp: drop(any),
  deletionGracePeriodSeconds: drop(i64),
  managedFields: drop(any),
});

const templateMeta = struct('ObjectMeta', {
  name: str,
  namespace: str,
  labels: strmap,
  annotations: strmap,
  generateName: str,
  creationTimestamp: drop(any),
});

const labelSelector = struct('LabelSelector', {
  matchLabels: strmap,
  matchExpressions: list(struct('LabelSelectorRequirement', { key: str, operator: str, values: list(str) })),
});

const objectReference = struct('ObjectReference', {
  kind: str,
  namespace: str,
  name: str,
  uid: str,
  apiVersion: str,
  resourceVersion: str,
  fieldPath: str,
});

const containerPort = struct('ContainerPort', {
  name: str,
  hostPort: i32,
  containerPort: i32,
  protocol: str,
  hostIP: str,
});

const container = struct('Container', {
  name: str,
  image: str,
  ports: list(containerPort),
  command: any,
  args: any,
  workingDir: any,
  envFrom: any,
  env: any,
  resources: any,
  resizePolicy: any,
  restartPolicy: any,
  restartPolicyRules: any,
  volumeMounts: any,
  volumeDevices: any,
  livenessProbe: any,
  readinessProbe: any,
  startupProbe: any,
  lifecycle: any,
  terminationMessagePath: any,
  terminationMessagePolicy: any,
  imagePullPolicy: any,
  securityContext: any,
  stdin: any,
  stdinOnce: any,
  tty: any,
});

const toleration = struct('Toleration', {
  key: str,
  operator: str,
  value: str,
  effect: str,
  tolerationSeconds: i64,
});

const podSpec = struct('PodSpec', {
  containers: list(container),
  initContainers: list(container),
  ephemeralContainers: any,
  nodeName: str,
  nodeSelector: strmap,
  tolerations: list(toleration),
  hostname: str,
  subdomain: str,
  restartPolicy: str,
  terminationGracePeriodSeconds: i64,
  schedulerName: unsupported(
    str,
    'only the default-scheduler runs',
    (v) => v === undefined || v === 'default-scheduler',
  ),
  dnsPolicy: str,
  hostNetwork: unsupported(bool, 'host-network pods are not modelled', (v) => v === undefined || v === false),
  readinessGates: unsupported(any, 'use the podwire.io/ready annotation to make a pod unready'),
  affinity: unsupported(any, 'use nodeSelector or nodeName to place pods'),
  topologySpreadConstraints: unsupported(any, 'the scheduler spreads by controller and pod count only'),
  schedulingGates: unsupported(any, 'scheduling gates are not modelled'),
  volumes: any,
  activeDeadlineSeconds: any,
  serviceAccountName: any,
  serviceAccount: any,
  automountServiceAccountToken: any,
  hostPID: any,
  hostIPC: any,
  shareProcessNamespace: any,
  securityContext: any,
  imagePullSecrets: any,
  hostAliases: any,
  priorityClassName: any,
  priority: any,
  dnsConfig: any,
  runtimeClassName: any,
  enableServiceLinks: any,
  preemptionPolicy: any,
  overhead: any,
  setHostnameAsFQDN: any,
  os: any,
  hostUsers: any,
  resourceClaims: any,
  resources: any,
  hostnameOverride: any,
});

const podTemplateSpec = struct('PodTemplateSpec', { metadata: templateMeta, spec: podSpec });

const status = drop(any);

const pod = struct('Pod', { apiVersion: str, kind: str, metadata: objectMeta, spec: podSpec, status });

const zeroOrAbsent = (v: unknown): boolean => v === undefined || v === 0;

const deployment = struct('Deployment', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: struct('DeploymentSpec', {
    replicas: i32,
    selector: labelSelector,
    template: podTemplateSpec,
    strategy: struct('DeploymentStrategy', {
      type: str,
      rollingUpdate: struct('RollingUpdateDeployment', { maxUnavailable: intstr, maxSurge: intstr }),
    }),
    minReadySeconds: unsupported(i32, 'pods are available as soon as they are ready', zeroOrAbsent),
    revisionHistoryLimit: i32,
    progressDeadlineSeconds: i32,
    paused: unsupported(bool, 'paused rollouts are not modelled', (v) => v === undefined || v === false),
  }),
  status,
});

const replicaSet = struct('ReplicaSet', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: struct('ReplicaSetSpec', {
    replicas: i32,
    selector: labelSelector,
    template: podTemplateSpec,
    minReadySeconds: unsupported(i32, 'pods are available as soon as they are ready', zeroOrAbsent),
  }),
  status,
});

const service = struct('Service', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: struct('ServiceSpec', {
    ports: list(
      struct('ServicePort', {
        name: str,
        protocol: str,
        appProtocol: str,
        port: i32,
        targetPort: intstr,
        nodePort: i32,
      }),
    ),
    selector: strmap,
    clusterIP: str,
    clusterIPs: list(str),
    type: str,
    externalIPs: list(str),
    sessionAffinity: str,
    loadBalancerIP: str,
    loadBalancerSourceRanges: list(str),
    externalName: str,
    externalTrafficPolicy: str,
    healthCheckNodePort: i32,
    publishNotReadyAddresses: bool,
    sessionAffinityConfig: struct('SessionAffinityConfig', {
      clientIP: struct('ClientIPConfig', { timeoutSeconds: i32 }),
    }),
    ipFamilies: list(str),
    ipFamilyPolicy: str,
    allocateLoadBalancerNodePorts: bool,
    loadBalancerClass: str,
    internalTrafficPolicy: str,
    trafficDistribution: unsupported(str, 'topology-aware routing is not modelled'),
  }),
  status,
});

const endpointPort = struct('EndpointPort', { name: str, port: i32, protocol: str, appProtocol: str });

const endpointAddress = struct('EndpointAddress', {
  ip: str,
  hostname: str,
  nodeName: str,
  targetRef: objectReference,
});

const endpoints = struct('Endpoints', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  subsets: list(
    struct('EndpointSubset', {
      addresses: list(endpointAddress),
      notReadyAddresses: list(endpointAddress),
      ports: list(endpointPort),
    }),
  ),
});

const forName = (go: string): Schema => list(struct(go, { name: str }));

const endpointSlice = struct('EndpointSlice', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  addressType: str,
  endpoints: list(
    struct('Endpoint', {
      addresses: list(str),
      conditions: struct('EndpointConditions', { ready: bool, serving: bool, terminating: bool }),
      hostname: str,
      targetRef: objectReference,
      deprecatedTopology: strmap,
      nodeName: str,
      zone: str,
      hints: struct('EndpointHints', { forZones: forName('ForZone'), forNodes: forName('ForNode') }),
    }),
  ),
  ports: list(struct('EndpointPort', { name: str, protocol: str, port: i32, appProtocol: str })),
});

const namespace = struct('Namespace', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: struct('NamespaceSpec', { finalizers: list(str) }),
  status,
});

/** Top-level schema of each kind a manifest may hold. */
export const KIND_SCHEMAS: Readonly<Record<string, Schema>> = {
  Pod: pod,
  Deployment: deployment,
  ReplicaSet: replicaSet,
  Service: service,
  Endpoints: endpoints,
  EndpointSlice: endpointSlice,
  Namespace: namespace,
};
