// Running a configuration by hand, as `cnitool add|del|check <net> <netns>` does with libcni: the container ID is
// derived from the namespace path ("cnitool-" + the first 10 bytes of its SHA-512 in hex), the interface defaults
// to eth0, CNI_ARGS and CAP_ARGS (JSON) come as text. What it prints: on ADD the final result in the
// configuration's version exactly as types.Result.Print writes it (four-space indent, no trailing newline); on
// DEL/CHECK nothing. On failure: the error object of SPEC.md (cniVersion, code, msg, details) in the same layout,
// with exit code 1 — where cnitool itself would print Go's error string, podwire prints the specification's object.
// Like cnitool (libcni), a failed ADD is not cleaned up.

import { createHash } from 'node:crypto';
import type { NetNs } from '../netns/netns.js';
import { addNetworkList, checkNetworkList, delNetworkList, netnsPath } from './runtime.js';
import { type NetworkConfigList, parseNetworkConfig } from './spec/conf.js';
import { asCniError } from './spec/errors.js';
import { isObject, parseJson } from './spec/json.js';
import { printError, printResult } from './spec/result.js';
import { isSupportedVersion } from './spec/version.js';
import { CniError, type CniVersion, type PluginEnv } from './types.js';

export interface CniToolInputs {
  netns: NetNs;
  /** Default: cnitool's hash of the namespace path. */
  containerId?: string;
  /** CNI_IFNAME; default eth0. */
  ifName?: string;
  /** CNI_ARGS text (`K=V;K2=V2`). */
  args?: string;
  /** CAP_ARGS: JSON text or an object. */
  capabilityArgs?: string | Record<string, unknown>;
  /** Name the configuration is reported under in errors (its file name decides `.conf` vs `.conflist`). */
  file?: string;
}

export interface CniToolOutput {
  stdout: string;
  code: number;
}

/** cnitool's container ID for a namespace path. */
export function cnitoolContainerId(path: string): string {
  return `cnitool-${createHash('sha512').update(path, 'utf8').digest('hex').slice(0, 20)}`;
}

/** cnitool's parseArgs: every pair needs a key and a value. */
function parseToolArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(';')) {
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '' || kv[1] === '')
      throw new CniError(4, `invalid CNI_ARGS pair ${JSON.stringify(pair)}`);
    out[kv[0]!] = kv[1]!;
  }
  return out;
}

function capArgs(v: CniToolInputs['capabilityArgs']): Record<string, unknown> | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') return v;
  let parsed: unknown;
  try {
    parsed = parseJson(v, 'CAP_ARGS').value;
  } catch (e) {
    throw new CniError(6, `CAP_ARGS: ${(e as Error).message}`);
  }
  if (!isObject(parsed as never))
    throw new CniError(6, 'CAP_ARGS: json: cannot unmarshal into Go value of type map[string]interface {}');
  return parsed as Record<string, unknown>;
}

/** The version to put in an error object: the configuration's own when it can be read. */
function versionOf(text: string, net: NetworkConfigList | undefined): CniVersion {
  if (net) return net.list.cniVersion as CniVersion;
  try {
    const v = parseJson(text).value;
    if (isObject(v) && isSupportedVersion(v.cniVersion)) return v.cniVersion;
  } catch {
    // unreadable configuration
  }
  return '1.0.0';
}

export function cniTool(
  cmd: 'add' | 'del' | 'check' | 'ADD' | 'DEL' | 'CHECK',
  confText: string,
  inputs: CniToolInputs,
  env: PluginEnv,
): CniToolOutput {
  let net: NetworkConfigList | undefined;
  try {
    net = parseNetworkConfig(confText, inputs.file ?? '<config>');
    const caps = capArgs(inputs.capabilityArgs);
    const rt = {
      containerId: inputs.containerId ?? cnitoolContainerId(netnsPath(inputs.netns)),
      netns: inputs.netns,
      ifName: inputs.ifName ?? 'eth0',
      ...(inputs.args ? { args: parseToolArgs(inputs.args) } : {}),
      ...(caps ? { capabilityArgs: caps } : {}),
    };
    const version = net.list.cniVersion as CniVersion;
    switch (cmd.toUpperCase()) {
      case 'ADD':
        return { stdout: printResult(addNetworkList(net, rt, env, { rollback: false }), version), code: 0 };
      case 'DEL':
        delNetworkList(net, rt, env);
        return { stdout: '', code: 0 };
      case 'CHECK':
        checkNetworkList(net, rt, env);
        return { stdout: '', code: 0 };
      default:
        throw new CniError(4, `unknown CNI_COMMAND: ${cmd}`);
    }
  } catch (e) {
    return { stdout: printError(asCniError(e), versionOf(confText, net)), code: 1 };
  }
}
