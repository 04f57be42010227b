// The parsed form of a scenario: the setup commands as a typed AST (what iproute2, bridge(8) and sysctl(8) would
// send to the kernel, with iproute2's userspace defaults already filled in), the listeners and the steps.
// Addresses are numbers (see wire/addr) because the emulated kernel works on numbers; names stay strings.
// Commands run in a named namespace (`ip -n NS`, `ip netns exec NS`) or in the initial one, written `ns: null`
// here and called "root" in steps, listeners and traces.
//
// Extensions add command kinds without editing this file, the same way trace events are extended:
//   declare module '../scenario/types.js' { interface CommandKinds { iptables: IptablesCommand } }
// and register a parser for the program name with `registerCommand` (commands/dispatch.ts).

import type { Cidr, Ipv4, Mac } from '../wire/addr.js';

/** A place in a scenario file; 1-based line and column. */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

export interface CommandBase {
  /** Namespace the command runs in; `null` is the initial ("root") namespace. */
  ns: string | null;
  /** First character of the command line (including any `sudo` or `ip netns exec` prefix). */
  pos: Pos;
}

/** `ip netns add NAME` */
export interface NetnsAdd extends CommandBase {
  kind: 'netnsAdd';
  name: string;
}

/** `ip netns del|delete NAME` */
export interface NetnsDel extends CommandBase {
  kind: 'netnsDel';
  name: string;
}

/** Attributes `ip link add` accepts before `type` (and a veth peer after `peer`). */
export interface LinkAttrs {
  name: string;
  address?: Mac;
  mtu?: number;
  /** Create the device directly in this namespace. */
  netns?: string;
  /** `up` given on creation. */
  up?: boolean;
}

/** `ip link add [name] NAME … type veth peer [name] PEER …` */
export interface LinkAddVeth extends CommandBase, LinkAttrs {
  kind: 'linkAddVeth';
  peer: LinkAttrs;
}

/** `ip link add NAME type bridge [stp_state 0|1] [ageing_time N]` */
export interface LinkAddBridge extends CommandBase, LinkAttrs {
  kind: 'linkAddBridge';
  stpState?: 0 | 1;
  /** IFLA_BR_AGEING_TIME in centiseconds (clock_t), passed through unscaled as iproute2 does. */
  ageingTime?: number;
}

/** `ip link add NAME type dummy` */
export interface LinkAddDummy extends CommandBase, LinkAttrs {
  kind: 'linkAddDummy';
}

/**
 * `ip link add NAME … type vxlan id VNI [local A] [dev D] [dstport P] [[no]learning] [ttl N|auto] [[no]udpcsum]
 * [srcport MIN MAX]`. Absent fields were not given (the kernel's defaults apply: dstport 8472, ttl auto, udpcsum,
 * srcport 0 0); `learning` is always sent by iproute2 (default on).
 */
export interface LinkAddVxlan extends CommandBase, LinkAttrs {
  kind: 'linkAddVxlan';
  vni: number;
  local?: Ipv4;
  /** Lower (underlay) device. */
  dev?: string;
  dstport?: number;
  learning: boolean;
  /** 0 = auto. */
  ttl?: number;
  udpCsum?: boolean;
  srcPort?: { min: number; max: number };
}

/** `ip link set [dev] NAME …`; every setting given is present, later ones overriding earlier ones. */
export interface LinkSet extends CommandBase {
  kind: 'linkSet';
  dev: string;
  up?: boolean;
  netns?: string;
  /** A bridge name for `master BR`; `null` for `nomaster`. */
  master?: string | null;
  /** New name (`name NEW`). */
  name?: string;
  mtu?: number;
  address?: Mac;
  promisc?: boolean;
}

/** `ip link del|delete [dev] NAME` */
export interface LinkDel extends CommandBase {
  kind: 'linkDel';
  dev: string;
}

export type AddrScope = 'global' | 'link' | 'host';

/** `ip addr add CIDR dev NAME …` (a bare address is /32, like iproute2). */
export interface AddrAdd extends CommandBase {
  kind: 'addrAdd';
  dev: string;
  cidr: Cidr;
  /** Explicit `broadcast ADDR`, or computed by iproute2 for `brd +` / `brd -` (absent above /30, as iproute2). */
  broadcast?: Ipv4;
  /** Explicit, or iproute2's default: `host` for 127.0.0.0/8, else `global`. */
  scope: AddrScope;
  label?: string;
}

/** `ip addr del ADDR[/LEN] dev NAME`; without a length the first address equal to ADDR goes (iproute2's wildcard delete). */
export interface AddrDel extends CommandBase {
  kind: 'addrDel';
  dev: string;
  addr: Ipv4;
  len?: number;
}

/** `ip addr flush [dev] NAME` */
export interface AddrFlush extends CommandBase {
  kind: 'addrFlush';
  dev: string;
}

export type RouteOp = 'add' | 'del' | 'replace' | 'append' | 'change';
export type RouteType = 'unicast' | 'local' | 'blackhole' | 'unreachable' | 'prohibit';

export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;

/**
 * `ip route add|del|replace|append|change …`. For every op but `del`, `type`, `scope` and `protocol` hold what
 * iproute2 sends when they are not given (unicast; link scope without a gateway, host for local, else global;
 * proto boot). For `del`, absent fields match any route, as in the kernel's fib_table_delete.
 */
export interface RouteCmd extends CommandBase {
  kind: 'routeAdd';
  op: RouteOp;
  type?: RouteType;
  dst: Cidr;
  via?: Ipv4;
  dev?: string;
  onlink: boolean;
  metric?: number;
  src?: Ipv4;
  /** Table id: main 254 unless given (local 255 for `local` routes). */
  table: number;
  /** rtm_protocol: kernel 2, boot 3, static 4, or a number 0–255. */
  protocol?: number;
  scope?: AddrScope;
  mtu?: number;
  advmss?: number;
}

export type NudState = 'permanent' | 'reachable' | 'stale' | 'noarp';

/** `ip neigh add|replace IP [lladdr MAC] dev NAME [nud STATE]`; nud defaults to permanent, as iproute2. */
export interface NeighAdd extends CommandBase {
  kind: 'neighAdd';
  op: 'add' | 'replace';
  dst: Ipv4;
  lladdr?: Mac;
  dev: string;
  nud: NudState;
}

/** `ip neigh del IP dev NAME` */
export interface NeighDel extends CommandBase {
  kind: 'neighDel';
  dst: Ipv4;
  dev: string;
}

/** FDB entry state after bridge(8)'s defaults: no state keyword means permanent. */
export type FdbState = 'permanent' | 'static' | 'dynamic';

/** `bridge fdb add|append|replace MAC dev NAME …`; neither self nor master means self, as bridge(8). */
export interface FdbAdd extends CommandBase {
  kind: 'fdbAdd';
  op: 'add' | 'append' | 'replace';
  mac: Mac;
  dev: string;
  self: boolean;
  master: boolean;
  state: FdbState;
  dst?: Ipv4;
  vni?: number;
}

/** `bridge fdb del MAC dev NAME [self|master] [dst IP] [vni N]` */
export interface FdbDel extends CommandBase {
  kind: 'fdbDel';
  mac: Mac;
  dev: string;
  self: boolean;
  master: boolean;
  dst?: Ipv4;
  vni?: number;
}

/** `bridge link set dev NAME [hairpin on|off] [learning on|off] [flood on|off]` */
export interface BridgeLinkSet extends CommandBase {
  kind: 'bridgeLinkSet';
  dev: string;
  hairpin?: boolean;
  learning?: boolean;
  flood?: boolean;
}

export interface SysctlSetting {
  /** Dotted form (`net.ipv4.conf.eth0.rp_filter`); a `/` inside a component stands for a `.` in the name, as procps prints it. */
  key: string;
  value: string;
  pos: Pos;
}

/** `sysctl [-w] KEY=VALUE …` and `echo VALUE > /proc/sys/…`. */
export interface Sysctl extends CommandBase {
  kind: 'sysctl';
  settings: SysctlSetting[];
}

/** Command kinds by name; extensions add members through declaration merging. */
export interface CommandKinds {
  netnsAdd: NetnsAdd;
  netnsDel: NetnsDel;
  linkAddVeth: LinkAddVeth;
  linkAddBridge: LinkAddBridge;
  linkAddDummy: LinkAddDummy;
  linkAddVxlan: LinkAddVxlan;
  linkSet: LinkSet;
  linkDel: LinkDel;
  addrAdd: AddrAdd;
  addrDel: AddrDel;
  addrFlush: AddrFlush;
  routeAdd: RouteCmd;
  neighAdd: NeighAdd;
  neighDel: NeighDel;
  fdbAdd: FdbAdd;
  fdbDel: FdbDel;
  bridgeLinkSet: BridgeLinkSet;
  sysctl: Sysctl;
}

export type CommandKind = keyof CommandKinds;
export type Command = CommandKinds[CommandKind];

/** ICMP errors a step may expect, with their type and code (RFC 792, RFC 1122, RFC 1812). */
export const ICMP_ERRORS = {
  'net-unreachable': { type: 3, code: 0 },
  'host-unreachable': { type: 3, code: 1 },
  'protocol-unreachable': { type: 3, code: 2 },
  'port-unreachable': { type: 3, code: 3 },
  'frag-needed': { type: 3, code: 4 },
  'source-route-failed': { type: 3, code: 5 },
  'net-unknown': { type: 3, code: 6 },
  'host-unknown': { type: 3, code: 7 },
  'host-isolated': { type: 3, code: 8 },
  'net-prohibited': { type: 3, code: 9 },
  'host-prohibited': { type: 3, code: 10 },
  'net-tos-unreachable': { type: 3, code: 11 },
  'host-tos-unreachable': { type: 3, code: 12 },
  'admin-prohibited': { type: 3, code: 13 },
  'host-precedence-violation': { type: 3, code: 14 },
  'precedence-cutoff': { type: 3, code: 15 },
  'time-exceeded': { type: 11, code: 0 },
} as const;

export type IcmpError = keyof typeof ICMP_ERRORS;

export type StepResult = 'reachable' | 'unreachable' | 'refused' | 'timeout';

/** A `"<ns>:<dev>"` hop the request must cross. */
export interface ViaHop {
  ns: string;
  dev: string;
}

/** Who may have answered a connect step: a pod by name, any pod of a Deployment, or any pod on a node. */
export type ServedBy =
  | { kind: 'pod'; name: string }
  | { kind: 'deployment'; namespace: string; name: string }
  | { kind: 'node'; node: string };

/** The source address a pod's server saw: a literal address, any address of a node (SNAT), or the client's own. */
export type SourceSeen = { kind: 'ip'; ip: Ipv4 } | { kind: 'node'; node: string } | { kind: 'client' };

export interface Expectation {
  result: StepResult;
  /** Source address of the reply, or of the ICMP error. */
  replyFrom?: Ipv4;
  icmp?: IcmpError;
  /** A DropReason name (trace/events.ts) that must appear in the trace of the step. */
  drop?: string;
  via?: ViaHop[];
  replyTtl?: number;
  /** Connect steps: the pod that answered (its server's reply names it) must be one of these. */
  servedBy?: ServedBy[];
  /** Connect steps: the client address the answering pod's server saw. */
  sourceSeenBy?: SourceSeen;
  /** Repeated connect steps: true, more than one pod answered across attempts; false, always the same one. */
  spread?: boolean;
}

/**
 * A destination named through the Kubernetes API, resolved when the step runs: a Service's cluster IP
 * (`svc/web:80`), a node's address and the Service's node port (`nodeport/web:80@node2`), or the first
 * load-balancer ingress IP (`lb/web:80`). `port` is the Service port's number or name (absent for ping).
 */
export interface ServiceRef {
  kind: 'svc' | 'nodeport' | 'lb';
  namespace: string;
  name: string;
  port?: number | string;
  node?: string;
  /** As written in the scenario. */
  text: string;
}

interface StepCommon {
  pos: Pos;
  name?: string;
  expect: Expectation;
}

export interface PingStep extends StepCommon {
  kind: 'ping';
  from: string;
  /** Source address override (`ping -I ADDR`). */
  src?: Ipv4;
  /** 0 until resolved when `service` is given. */
  to: Ipv4;
  service?: ServiceRef;
  count: number;
  /** Absent: the sending namespace's net.ipv4.ip_default_ttl. */
  ttl?: number;
  /** ICMP payload bytes, as `ping -s`. */
  size: number;
  /** false: DF clear (`ping -M dont`); absent: ping's default (DF set). */
  df?: boolean;
}

export interface ConnectStep extends StepCommon {
  kind: 'connect';
  proto: 'tcp' | 'udp';
  from: string;
  src?: Ipv4;
  /** `to` and `port` are 0 until resolved when `service` is given. */
  to: Ipv4;
  port: number;
  service?: ServiceRef;
  payload: string;
  /** Connections made one after the other (default 1); every expectation holds for each. */
  repeat?: number;
}

/** A step that sends traffic and checks what came back. */
export type ProbeStep = PingStep | ConnectStep;

/** A Kubernetes manifest (a YAML stream) and where its characters are in the scenario (or its own) file. */
export interface KubeManifest {
  pos: Pos;
  /** The file name errors are reported against before they are placed (`locate`). */
  file: string;
  text: string;
  /** File position of a 1-based line and column of `text`. */
  locate(line: number, col: number): Pos;
}

/** What `delete` removes: `kubectl delete svc/web`, `deploy/web`, `pod/web`. */
export type KubeDeleteKind = 'Service' | 'Deployment' | 'Pod';

/** A change to the cluster between traffic steps. */
export type StepAction =
  | { kind: 'leave'; node: string }
  | { kind: 'apply'; manifest: KubeManifest }
  | { kind: 'delete'; resource: KubeDeleteKind; namespace: string; name: string; text: string }
  | { kind: 'scale'; namespace: string; deployment: string; replicas: number }
  | { kind: 'cordon' | 'uncordon' | 'drain'; node: string };

export interface ActionStep {
  kind: 'action';
  pos: Pos;
  name?: string;
  action: StepAction;
}

export type Step = ProbeStep | ActionStep;

/** A tiny server: accepts (tcp) or receives (udp) and answers with `reply`. */
export interface Listener {
  pos: Pos;
  ns: string;
  proto: 'tcp' | 'udp';
  port: number;
  /** Bound address; absent means any (0.0.0.0). */
  address?: Ipv4;
  reply: string;
}

/** A node of a cluster: namespace `name`, its eth0 a port of its segment's bridge in the initial namespace. */
export interface ClusterNode {
  pos: Pos;
  name: string;
  address: Cidr;
  gateway?: Ipv4;
  segment: string;
  /** spec.podCIDR: flannel's lease for the node with the Kubernetes subnet manager. */
  podCIDR?: Cidr;
}

/** An L2 segment of the underlay: a bridge of this name in the initial namespace. */
export interface ClusterSegment {
  pos: Pos;
  name: string;
  mtu: number;
}

/** A router namespace with one interface (eth0, eth1, …) per listed segment, forwarding on. */
export interface ClusterRouter {
  pos: Pos;
  name: string;
  interfaces: { segment: string; address: Cidr }[];
}

/** A host on the underlay outside the cluster. */
export interface ClusterClient {
  pos: Pos;
  name: string;
  address: Cidr;
  gateway?: Ipv4;
  segment: string;
}

/** flanneld's configuration: net-conf.json's text and where its characters are in the scenario. */
export interface ClusterFlannel {
  pos: Pos;
  netConf: string;
  ipMasq: boolean;
  /** File position of a 1-based line and column of `netConf`. */
  locate(line: number, col: number): Pos;
}

/** A hostPort mapping as the kubelet passes it in the portMappings capability. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

export interface ClusterPod {
  pos: Pos;
  name: string;
  node: string;
  namespace: string;
  ports: PortMapping[];
}

/** The pod network's configuration list text and where its characters are in the scenario (or its own) file. */
export interface ClusterCni {
  pos: Pos;
  /** The name it gets in /etc/cni/net.d. */
  fileName: string;
  text: string;
  /** File position of a 1-based line and column of `text`. */
  locate(line: number, col: number): Pos;
}

/** kube-proxy's options (iptables mode) on every node. */
export interface KubeProxyConfig {
  /** --cluster-cidr; default flannel's Network, or the pod network's subnet. */
  clusterCIDR?: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  nodePortAddresses: string[];
  localhostNodePorts: boolean;
}

/** The Kubernetes control plane and kube-proxy on every node, with the manifests applied at start. */
export interface ClusterKubernetes {
  pos: Pos;
  serviceCIDR: string;
  nodePortRange: string;
  kubeProxy: KubeProxyConfig;
  /** MetalLB-style pool for LoadBalancer Services' ingress IPs. */
  loadBalancerPool?: Cidr;
  manifests: KubeManifest[];
}

export interface Cluster {
  pos: Pos;
  segments: ClusterSegment[];
  routers: ClusterRouter[];
  clients: ClusterClient[];
  nodes: ClusterNode[];
  flannel?: ClusterFlannel;
  cni: ClusterCni;
  pods: ClusterPod[];
  kubernetes?: ClusterKubernetes;
}

export interface Scenario {
  file: string;
  name: string;
  description?: string;
  seed: number;
  /** Built before `setup` runs. */
  cluster?: Cluster;
  setup: Command[];
  listen: Listener[];
  steps: Step[];
}
