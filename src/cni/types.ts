// The CNI specification's data as podwire's runtime and plugins exchange it (SPEC.md of containernetworking/cni):
// network configurations (single and lists), the runtime's inputs (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
// CNI_IFNAME, CNI_ARGS, runtimeConfig), results in the 1.0.0 shape (converted to a configuration's version on
// output), and the error object with the specification's codes. Plugins are in-process objects with ADD, DEL and
// CHECK, registered by `type` name, instead of binaries on CNI_PATH.

import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** Error codes of the specification (section "Error"). */
export const CNI_ERR = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE: 6,
  INVALID_NETCONF: 7,
  TRY_AGAIN: 11,
} as const;

/** The error object a plugin prints on failure. */
export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: number,
    msg: string,
    readonly details?: string,
  ) {
    super(msg);
  }

  toObject(cniVersion: string): CniErrorObject {
    return {
      cniVersion,
      code: this.code,
      msg: this.message,
      ...(this.details !== undefined ? { details: this.details } : {}),
    };
  }
}

export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  /** Path of the network namespace for container interfaces; absent for host interfaces. */
  sandbox?: string;
}

export interface IpConfig {
  /** CIDR, e.g. 10.244.1.5/24. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result in the 1.0.0 shape (older versions are produced by conversion). */
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IpConfig[];
  routes?: Route[];
  dns?: Dns;
}

/** One plugin's configuration (inside a list, or a single `.conf`). Plugin-specific keys ride along. */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  capabilities?: Record<string, boolean>;
  ipam?: { type: string; [k: string]: unknown };
  dns?: Dns;
  prevResult?: Result;
  runtimeConfig?: Record<string, unknown>;
  args?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface NetConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: NetConf[];
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** What a runtime passes to a plugin besides the configuration. */
export interface RuntimeInputs {
  containerId: string;
  /** The pod's network namespace (CNI_NETNS names it `/var/run/netns/<name>`). */
  netns: NetNs;
  ifName: string;
  /** CNI_ARGS as key/value pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, IP, IgnoreUnknown, …). */
  args: Record<string, string>;
  /** Capability arguments the runtime supplies (portMappings, ips, mac, bandwidth, …) by capability name. */
  capabilityArgs: Record<string, unknown>;
}

/** In-memory files of a node (`/var/lib/cni/networks/…`, `/etc/cni/net.d/…`), inspectable by scenarios. */
export interface NodeFs {
  read(path: string): string | undefined;
  write(path: string, data: string): void;
  remove(path: string): boolean;
  list(dir: string): string[];
  exists(path: string): boolean;
}

/** Everything a plugin may touch: the kernel, the node's host namespace and its files. */
export interface PluginEnv {
  kernel: Kernel;
  host: NetNs;
  fs: NodeFs;
}

export interface Plugin {
  readonly type: string;
  add(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): Result;
  del(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void;
  check(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void;
}
