// Delegation from one plugin to another (libcni's pkg/invoke DelegateAdd / DelegateDel / DelegateCheck), as a
// meta-plugin such as flannel hands its work to bridge: the delegate is found by type on the plugin path (a
// missing one is FindInPath's plain error), runs with the caller's environment — same container ID, netns,
// interface name and CNI_ARGS, only CNI_COMMAND changed — and reads the configuration bytes it is given on stdin,
// its `runtimeConfig` being its capability arguments. The skel around the delegate refuses a configuration
// version it does not speak. An ADD's result is what the delegate prints in the configuration's version, read
// back (version.NewResult), so the caller sees exactly what a separate process would have printed.

import { findPlugin } from './registry.js';
import { isObject, type JsonObject, JsonSyntaxError, parseJson } from './spec/json.js';
import { decodeResult, encodeResult, validateResult } from './spec/result.js';
import { incompatibleVersion, isSupportedVersion } from './spec/version.js';
import {
  CniError,
  type CniVersion,
  type NetConf,
  type Plugin,
  type PluginEnv,
  type Result,
  type RuntimeInputs,
} from './types.js';

/** FindInPath's error is not a CNI error object: the caller reports it as its own (code 999 through skel). */
function delegatePlugin(type: string): Plugin {
  try {
    return findPlugin(type);
  } catch (e) {
    if (e instanceof CniError) throw new Error(e.message);
    throw e;
  }
}

/** What the delegate's skel does with the bytes on stdin before the plugin sees them. */
function delegateConf(netconf: string): { conf: NetConf; version: CniVersion } {
  let conf: JsonObject;
  try {
    const v = parseJson(netconf, '<stdin>').value;
    if (!isObject(v)) throw new CniError(6, 'error unmarshaling network config: not an object');
    conf = v;
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new CniError(6, `error unmarshaling network config: ${e.reason}`);
    throw e;
  }
  const version = conf.cniVersion;
  if (!isSupportedVersion(version)) throw incompatibleVersion(typeof version === 'string' ? version : '');
  return { conf: conf as unknown as NetConf, version };
}

function inputsFor(conf: NetConf, rt: RuntimeInputs): RuntimeInputs {
  const rc = conf.runtimeConfig;
  return { ...rt, capabilityArgs: { ...(isObject(rc) ? rc : {}) } };
}

/** DelegateAdd: the delegate's result as the caller reads it back. */
export function delegateAdd(type: string, netconf: string, rt: RuntimeInputs, env: PluginEnv): Result {
  const plugin = delegatePlugin(type);
  const { conf, version } = delegateConf(netconf);
  const out = plugin.add(conf, inputsFor(conf, rt), env);
  const printed = encodeResult({ ...out, cniVersion: version }, version);
  validateResult(printed, version);
  return decodeResult(printed, version);
}

/** DelegateDel. */
export function delegateDel(type: string, netconf: string, rt: RuntimeInputs, env: PluginEnv): void {
  const plugin = delegatePlugin(type);
  const { conf } = delegateConf(netconf);
  plugin.del(conf, inputsFor(conf, rt), env);
}

/** DelegateCheck. */
export function delegateCheck(type: string, netconf: string, rt: RuntimeInputs, env: PluginEnv): void {
  const plugin = delegatePlugin(type);
  const { conf } = delegateConf(netconf);
  plugin.check(conf, inputsFor(conf, rt), env);
}
