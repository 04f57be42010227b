// IPAM plugins by `ipam.type`, as a runtime would find their binaries on CNI_PATH: a main plugin (bridge) hands
// its whole configuration and the runtime's inputs to the IPAM plugin named in its `ipam` section and uses the
// returned addresses and routes. IPAM plugins touch only the node's files, never the kernel, so they take a
// narrower runtime and environment than main plugins (a full RuntimeInputs and PluginEnv fit these).

import type { NetConf, PluginEnv, Result, RuntimeInputs } from '../types.js';
import { hostLocal } from './host-local/plugin.js';

export type IpamRuntime = Pick<RuntimeInputs, 'containerId' | 'ifName' | 'args'>;
export type IpamEnv = Pick<PluginEnv, 'fs'>;

export interface IpamPlugin {
  readonly type: string;
  /** Returns a 1.0.0-shaped result with `ips` (and `routes`, `dns` when configured); no interfaces. */
  add(conf: NetConf, rt: IpamRuntime, env: IpamEnv): Result;
  del(conf: NetConf, rt: IpamRuntime, env: IpamEnv): void;
  check(conf: NetConf, rt: IpamRuntime, env: IpamEnv): void;
}

const registry = new Map<string, IpamPlugin>();

/** Registers a plugin under its type; a different plugin already holding the name is refused. */
export function registerIpam(plugin: IpamPlugin): void {
  const existing = registry.get(plugin.type);
  if (existing !== undefined && existing !== plugin) {
    throw new Error(`IPAM plugin type ${JSON.stringify(plugin.type)} is already registered`);
  }
  registry.set(plugin.type, plugin);
}

export function findIpam(type: string): IpamPlugin | undefined {
  return registry.get(type);
}

/** Registered type names, sorted. */
export function ipamTypes(): string[] {
  return [...registry.keys()].sort();
}

registerIpam(hostLocal);

export { hostLocal };
