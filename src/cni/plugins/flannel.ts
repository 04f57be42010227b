// The `flannel` CNI meta-plugin (flannel-io/cni-plugin v1.9.x) on podwire's runtime. It does no networking itself:
// ADD reads the node's subnet.env (written by flanneld), builds a delegate configuration from it (see
// flannel/conf.ts), saves those bytes as <dataDir>/<container ID> for DEL, and delegates ADD to the delegate's
// type (bridge by default) through the plugin path, returning the delegate's result. DEL reads the saved bytes
// back and delegates DEL to the type they name; a missing file means there is nothing to do, and the file is
// removed once it was read and parsed — also when the delegate's DEL fails, as the reference's deferred clean-up
// sees no error then. CHECK does nothing (the reference has it unimplemented).
// Errors: a delegate's own CNI error comes back unchanged (skel unwraps it); everything else is code 999 with the
// reference's wording (`failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or
// directory. Check the flannel pod log for this node.`).
// Loading this module registers the plugin.

import { delegateAdd, delegateDel } from '../delegate.js';
import { joinPath, mkdirAll } from '../fs.js';
import { registerPlugin } from '../registry.js';
import { isObject, parseJson } from '../spec/json.js';
import { CniError, type NetConf, type Plugin, type PluginEnv, type Result, type RuntimeInputs } from '../types.js';
import { buildDelegate, loadFlannelPluginConf } from './flannel/conf.js';
import { loadFlannelSubnetEnv } from './flannel/subnet-env.js';

/** The file kube-flannel's init container installs the CNI configuration as. */
export const KUBE_FLANNEL_CNI_CONF_NAME = '10-flannel.conflist';

/** kube-flannel.yml's cni-conf.json. */
export const KUBE_FLANNEL_CNI_CONF = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
`;

const ERR_INTERNAL = 999;

function internal(e: unknown): CniError {
  if (e instanceof CniError) return e;
  return new CniError(ERR_INTERNAL, e instanceof Error ? e.message : String(e));
}

function add(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): Result {
  let pc: ReturnType<typeof loadFlannelPluginConf>;
  try {
    pc = loadFlannelPluginConf(conf);
  } catch (e) {
    throw internal(new Error(`failed to load flannel netconf file: ${(e as Error).message}`));
  }
  let fenv: ReturnType<typeof loadFlannelSubnetEnv>;
  try {
    fenv = loadFlannelSubnetEnv(env.fs, pc.subnetFile);
  } catch (e) {
    throw internal(
      new Error(
        `failed to load flannel 'subnet.env' file: ${(e as Error).message}. Check the flannel pod log for this node.`,
      ),
    );
  }
  let delegate: { type: string; bytes: string };
  try {
    delegate = buildDelegate(pc, fenv);
  } catch (e) {
    throw internal(e);
  }
  try {
    mkdirAll(env.fs, pc.dataDir);
    env.fs.write(joinPath(pc.dataDir, rt.containerId), delegate.bytes);
  } catch (e) {
    throw internal(e);
  }
  try {
    return delegateAdd(delegate.type, delegate.bytes, rt, env);
  } catch (e) {
    if (e instanceof CniError) throw e;
    throw internal(new Error(`failed to delegate add: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function del(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void {
  let pc: ReturnType<typeof loadFlannelPluginConf>;
  try {
    pc = loadFlannelPluginConf(conf);
  } catch (e) {
    throw internal(e);
  }
  const path = joinPath(pc.dataDir, rt.containerId);
  const bytes = env.fs.read(path);
  if (bytes === undefined) return;
  let type: string;
  try {
    const v = parseJson(bytes, path).value;
    if (!isObject(v)) throw new Error('not an object');
    const t = v.type;
    if (t !== undefined && t !== null && typeof t !== 'string') throw new Error('type is not a string');
    type = typeof t === 'string' ? t : '';
  } catch {
    // The reference prints the parse error on stderr, keeps the file and reports success.
    return;
  }
  try {
    delegateDel(type, bytes, rt, env);
  } catch (e) {
    env.fs.remove(path);
    throw internal(e);
  }
  env.fs.remove(path);
}

function check(_conf: NetConf, _rt: RuntimeInputs, _env: PluginEnv): void {
  // cmdCheck is a TODO in the reference: it always succeeds.
}

export const flannelPlugin: Plugin = { type: 'flannel', add, del, check };

registerPlugin(flannelPlugin);
