// The CNI runtime side (libcni's AddNetworkList / DelNetworkList / CheckNetworkList), running in-process plugins:
// - ADD runs the list's plugins in order; each gets the previous plugin's result as `prevResult`, in the list's
//   version (written by the plugin in that version and read back, so whatever the version cannot carry is lost
//   as it is between real processes). The last result is returned and cached in the node's files.
// - DEL runs them in reverse order with the cached result as prevResult (0.4.0 and later; before, none), then
//   removes the cache entry. CHECK (0.4.0 and later, skipped when the list sets disableCheck) runs them in order
//   with the cached result.
// - Each plugin's configuration is derived as SPEC.md section 3 says: the list's name and cniVersion injected,
//   `capabilities` removed, `runtimeConfig` holding the capability arguments the plugin declared (portMappings,
//   ips, mac, bandwidth, …) and the runtime supplied.
// - Container ID, interface name and network name are checked as libcni's utils do; a plugin error that is not
//   a CNI error becomes code 999, as skel reports it; libcni's wrapping (`plugin type="x" failed (add): …`) is kept.
// Atomicity: a failing ADD leaves no half-made state. Before the error is returned, DEL runs for every plugin of
// the list in reverse order, without a prevResult — what kubelet/CRI do after a failed sandbox setup and what the
// specification asks ("execute the DEL action for all plugins in the list, even if some were not called"). Unlike a
// plain DelNetworkList this clean-up does not stop at a missing plugin or a failing DEL: it goes on and reports
// those failures in the error's details. Pass `rollback: false` to get libcni's bare behaviour (cnitool).

import type { NetNs } from '../netns/netns.js';
import { type CacheKey, cacheAdd, cacheDel, getCachedResult } from './cache.js';
import { findPlugin } from './registry.js';
import { parseCniArgs } from './spec/args.js';
import { confListFromObject, type NetworkConfigList } from './spec/conf.js';
import { asCniError, CNI_ERR_INVALID_NETNS, CniConfError, confErrorAt, wrapPluginError } from './spec/errors.js';
import { cloneJson, isObject, type JsonObject, type JsonValue } from './spec/json.js';
import { asSeenBy, decodeResult, encodeResult, validateResult } from './spec/result.js';
import { versionAtLeast } from './spec/version.js';
import {
  type CniCommand,
  CniError,
  type CniVersion,
  type NetConf,
  type NetConfList,
  type Plugin,
  type PluginEnv,
  type Result,
  type RuntimeInputs,
} from './types.js';

export { CNI_BIN_DIR, findPlugin, hasPlugin, registeredTypes, registerPlugin, unregisterPlugin } from './registry.js';
export { formatCniArgs, loadArgs, parseCniArgs } from './spec/args.js';

/** What the runtime knows about one attachment (libcni RuntimeConf). */
export interface RuntimeConf {
  containerId: string;
  netns: NetNs;
  ifName: string;
  /** CNI_ARGS, as pairs or as the `K=V;K2=V2` string. */
  args?: Record<string, string> | string;
  /** Capability arguments by capability name (portMappings, ips, mac, bandwidth, …). */
  capabilityArgs?: Record<string, unknown>;
}

/** One plugin invocation, for tracing and tests: the configuration on stdin and what came back. */
export interface Invocation {
  command: CniCommand;
  type: string;
  /** The execution configuration as the plugin would read it on stdin. */
  stdin: JsonObject;
  /** ADD: the result as the plugin printed it. */
  stdout?: JsonObject;
  error?: CniError;
}

export interface RuntimeOptions {
  /** Undo a failed ADD by running DEL for the whole list (default true; see the module comment). */
  rollback?: boolean;
  /** Called after every plugin invocation. */
  onInvoke?: (inv: Invocation) => void;
}

const CNI_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** CNI_NETNS for a namespace: where `ip netns add` puts it. */
export function netnsPath(ns: NetNs): string {
  return `/var/run/netns/${ns.name}`;
}

function asList(net: NetworkConfigList | NetConfList): NetworkConfigList {
  return 'list' in net && 'doc' in net ? net : confListFromObject(net as NetConfList);
}

/** ValidateContainerID and ValidateInterfaceName of libcni's utils (skel checks the same before running). */
export function checkAttachment(rt: RuntimeConf): void {
  if (rt.containerId === '') throw new CniError(3, 'missing containerID');
  if (!CNI_NAME.test(rt.containerId)) throw new CniError(4, 'invalid characters in containerID', rt.containerId);
  const n = rt.ifName;
  if (n.length === 0) throw new CniError(4, 'interface name is empty');
  if (n.length > 15)
    throw new CniError(4, 'interface name is too long', 'interface name should be less than 16 characters');
  if (n === '.' || n === '..') throw new CniError(4, 'interface name is . or ..');
  if (/[/:\s]/.test(n)) throw new CniError(4, 'interface name contains / or : or whitespace characters');
}

function argsOf(rt: RuntimeConf): Record<string, string> {
  if (rt.args === undefined) return {};
  return typeof rt.args === 'string' ? parseCniArgs(rt.args) : { ...rt.args };
}

/** The capability arguments plugin `conf` declared and the runtime supplied (libcni injectRuntimeConfig). */
function runtimeConfigOf(conf: JsonObject, rt: RuntimeConf): JsonObject {
  const rc: JsonObject = {};
  const caps = conf.capabilities;
  if (!isObject(caps) || !rt.capabilityArgs) return rc;
  for (const [cap, on] of Object.entries(caps)) {
    if (on !== true || !(cap in rt.capabilityArgs)) continue;
    const v = rt.capabilityArgs[cap];
    if (v === undefined || v === null) continue;
    rc[cap] = cloneJson(v as JsonValue);
  }
  return rc;
}

/**
 * The configuration plugin `i` of `net` receives on stdin (SPEC.md "Deriving execution configuration"), with
 * `prevResult` written in the list's version.
 */
export function execConfig(
  net: NetworkConfigList,
  i: number,
  prevResult: Result | undefined,
  rt: RuntimeConf,
): JsonObject {
  const version = net.list.cniVersion as CniVersion;
  const conf = cloneJson(net.list.plugins[i] as unknown as JsonObject);
  conf.cniVersion = version;
  conf.name = net.list.name;
  const rc = runtimeConfigOf(conf, rt);
  delete conf.capabilities;
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  if (prevResult) conf.prevResult = encodeResult(prevResult, version);
  return conf;
}

interface Call {
  net: NetworkConfigList;
  index: number;
  rt: RuntimeConf;
  env: PluginEnv;
  opts: RuntimeOptions;
}

function pluginAt(net: NetworkConfigList, i: number): Plugin {
  const type = net.list.plugins[i]!.type;
  try {
    return findPlugin(type);
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    throw confErrorAt(net.doc, [...net.pluginPath(i), 'type'], e.code, e.message, e.details);
  }
}

function invoke(command: CniCommand, c: Call, prevResult: Result | undefined): Result | undefined {
  const { net, index, rt, env } = c;
  const version = net.list.cniVersion as CniVersion;
  const plugin = pluginAt(net, index);
  const stdin = execConfig(net, index, prevResult, rt);
  const inv: Invocation = { command, type: plugin.type, stdin };
  try {
    checkAttachment(rt);
    if (command !== 'DEL' && rt.netns === env.host)
      throw new CniError(CNI_ERR_INVALID_NETNS, "plugin's netns and netns from CNI_NETNS should not be the same");
    const conf = { ...stdin } as unknown as NetConf;
    if (prevResult) conf.prevResult = decodeResult(stdin.prevResult, version);
    const inputs: RuntimeInputs = {
      containerId: rt.containerId,
      netns: rt.netns,
      ifName: rt.ifName,
      args: argsOf(rt),
      capabilityArgs: { ...((stdin.runtimeConfig as Record<string, unknown> | undefined) ?? {}) },
    };
    if (command === 'ADD') {
      const out = plugin.add(conf, inputs, env);
      // What the plugin prints in the list's version, and what the runtime reads back from it.
      const printed = encodeResult({ ...out, cniVersion: version }, version);
      inv.stdout = printed;
      try {
        validateResult(printed, version);
      } catch (e) {
        const ce = e as CniError;
        throw new CniError(ce.code, `plugin "${plugin.type}" printed an invalid result: ${ce.message}`, ce.details);
      }
      return decodeResult(printed, version);
    }
    if (command === 'DEL') plugin.del(conf, inputs, env);
    else plugin.check(conf, inputs, env);
    return undefined;
  } catch (e) {
    inv.error = asCniError(e);
    throw inv.error;
  } finally {
    c.opts.onInvoke?.(inv);
  }
}

function keyOf(rt: RuntimeConf): CacheKey {
  return { containerId: rt.containerId, ifName: rt.ifName };
}

function describe(net: NetworkConfigList, i: number): { type: string; name?: unknown } {
  return net.list.plugins[i]!;
}

/** Runs DEL for every plugin in reverse, going on past failures; returns what failed. */
function rollback(net: NetworkConfigList, rt: RuntimeConf, env: PluginEnv, opts: RuntimeOptions): CniError[] {
  const failures: CniError[] = [];
  for (let i = net.list.plugins.length - 1; i >= 0; i--) {
    try {
      invoke('DEL', { net, index: i, rt, env, opts }, undefined);
    } catch (e) {
      failures.push(wrapPluginError(asCniError(e), describe(net, i), 'delete'));
    }
  }
  cacheDel(env.fs, net.list.name, keyOf(rt));
  return failures;
}

/** AddNetworkList: the list's plugins in order; returns the final result (in the list's version). */
export function addNetworkList(
  netIn: NetworkConfigList | NetConfList,
  rt: RuntimeConf,
  env: PluginEnv,
  opts: RuntimeOptions = {},
): Result {
  const net = asList(netIn);
  const version = net.list.cniVersion as CniVersion;
  let result: Result | undefined;
  for (let i = 0; i < net.list.plugins.length; i++) {
    try {
      result = invoke('ADD', { net, index: i, rt, env, opts }, result);
    } catch (e) {
      const err = wrapPluginError(asCniError(e), describe(net, i), 'add');
      if (opts.rollback === false) throw err;
      const failures = rollback(net, rt, env, opts);
      if (failures.length === 0) throw err;
      const more = `clean-up by DEL failed too: ${failures.map((f) => f.message).join('; ')}`;
      throw err instanceof CniConfError
        ? new CniConfError(
            err.code,
            err.message,
            err.file,
            err.line,
            err.col,
            err.field,
            [err.explanation, more].filter(Boolean).join('; '),
          )
        : new CniError(err.code, err.message, [err.details, more].filter(Boolean).join('; '));
    }
  }
  const final = result!;
  cacheAdd(env.fs, final, version, {
    containerId: rt.containerId,
    ifName: rt.ifName,
    networkName: net.list.name,
    config: net.bytes,
    netns: netnsPath(rt.netns),
    cniArgs: Object.entries(argsOf(rt)),
    ...(rt.capabilityArgs ? { capabilityArgs: rt.capabilityArgs } : {}),
  });
  return asSeenBy(final, version);
}

/** GetNetworkListCachedResult: the result the last ADD cached, in the list's version. */
export function getNetworkListCachedResult(
  netIn: NetworkConfigList | NetConfList,
  rt: RuntimeConf,
  env: PluginEnv,
): Result | undefined {
  const net = asList(netIn);
  return getCachedResult(env.fs, net.list.name, net.list.cniVersion as CniVersion, keyOf(rt));
}

/** DelNetworkList: the plugins in reverse order with the cached result; stops at the first failure. */
export function delNetworkList(
  netIn: NetworkConfigList | NetConfList,
  rt: RuntimeConf,
  env: PluginEnv,
  opts: RuntimeOptions = {},
): void {
  const net = asList(netIn);
  const version = net.list.cniVersion as CniVersion;
  let cached: Result | undefined;
  if (versionAtLeast(version, '0.4.0')) {
    try {
      cached = getCachedResult(env.fs, net.list.name, version, keyOf(rt));
    } catch {
      cacheDel(env.fs, net.list.name, keyOf(rt));
      cached = undefined;
    }
  }
  for (let i = net.list.plugins.length - 1; i >= 0; i--) {
    try {
      invoke('DEL', { net, index: i, rt, env, opts }, cached);
    } catch (e) {
      throw wrapPluginError(asCniError(e), describe(net, i), 'delete');
    }
  }
  cacheDel(env.fs, net.list.name, keyOf(rt));
}

/** CheckNetworkList: 0.4.0 and later; nothing to do when the list sets disableCheck. */
export function checkNetworkList(
  netIn: NetworkConfigList | NetConfList,
  rt: RuntimeConf,
  env: PluginEnv,
  opts: RuntimeOptions = {},
): void {
  const net = asList(netIn);
  const version = net.list.cniVersion as CniVersion;
  if (!versionAtLeast(version, '0.4.0'))
    throw new CniError(1, `configuration version ${JSON.stringify(version)} does not support the CHECK command`);
  if (net.list.disableCheck) return;
  let cached: Result | undefined;
  try {
    cached = getCachedResult(env.fs, net.list.name, version, keyOf(rt));
  } catch (e) {
    const ce = asCniError(e);
    throw new CniError(
      ce.code,
      `failed to get network ${JSON.stringify(net.list.name)} cached result: ${ce.message}`,
      ce.details,
    );
  }
  for (let i = 0; i < net.list.plugins.length; i++) invoke('CHECK', { net, index: i, rt, env, opts }, cached);
}
