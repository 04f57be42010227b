// The plugins a node can run, by `type` — podwire's CNI_PATH. A real runtime looks for an executable named after
// the type in each CNI_PATH directory; here plugin modules register an object when they load (as protocol handlers
// register with the device layer). A type nobody registered fails as libcni's FindInPath does when the binary is
// missing, naming the directory kubelet and containerd search by default.

import { CniError, type Plugin } from './types.js';

/** The plugin directory a runtime searches by default (kubelet --cni-bin-dir, containerd bin_dir). */
export const CNI_BIN_DIR = '/opt/cni/bin';

const plugins = new Map<string, Plugin>();

/**
 * Makes `plugin` available under its type. Registering the same object again is a no-op; a different object for
 * a registered type is an error unless `replace` is set (tests swap in doubles that way).
 */
export function registerPlugin(plugin: Plugin, opts: { replace?: boolean } = {}): void {
  const have = plugins.get(plugin.type);
  if (have && have !== plugin && !opts.replace)
    throw new Error(`a CNI plugin of type "${plugin.type}" is already registered`);
  plugins.set(plugin.type, plugin);
}

export function unregisterPlugin(type: string): boolean {
  return plugins.delete(type);
}

/** The plugin for `type`; a missing one is libcni's FindInPath error (code 7 here: the configuration names it). */
export function findPlugin(type: string): Plugin {
  if (type === '') throw new CniError(7, 'no plugin name provided');
  if (type.includes('/') || type.includes('\\')) throw new CniError(7, `invalid plugin name: ${type}`);
  const p = plugins.get(type);
  if (!p)
    throw new CniError(
      7,
      `failed to find plugin "${type}" in path [${CNI_BIN_DIR}]`,
      `podwire has the plugins ${registeredTypes().join(', ') || '(none)'}`,
    );
  return p;
}

export function hasPlugin(type: string): boolean {
  return plugins.has(type);
}

export function registeredTypes(): string[] {
  return [...plugins.keys()].sort();
}
