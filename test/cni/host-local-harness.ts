// Shared helpers for the host-local tests: configurations in the shape a bridge conflist hands to its IPAM plugin,
// and ADD/DEL/CHECK calls that return plain data (addresses, error messages) for table-driven assertions.

import { expect } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { findIpam, type IpamPlugin } from '../../src/cni/ipam/index.js';
import { CniError, type NetConf, type NodeFs, type Result } from '../../src/cni/types.js';

export const hostLocal: IpamPlugin = findIpam('host-local')!;

export function mkConf(ipam: Record<string, unknown>, extra: Record<string, unknown> = {}): NetConf {
  return { cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', ...extra, ipam: { type: 'host-local', ...ipam } };
}

export interface Call {
  id: string;
  ifName?: string;
  args?: Record<string, string>;
}

const rt = (c: Call) => ({ containerId: c.id, ifName: c.ifName ?? 'eth0', args: c.args ?? {} });

export function add(fs: NodeFs, conf: NetConf, c: Call | string): Result {
  return hostLocal.add(conf, rt(typeof c === 'string' ? { id: c } : c), { fs });
}

/** The addresses an ADD returned, or the error's message prefixed with `!`. */
export function tryAdd(fs: NodeFs, conf: NetConf, c: Call | string): string[] | string {
  try {
    return add(fs, conf, c).ips!.map((ip) => ip.address);
  } catch (e) {
    return `!${errorOf(e)}`;
  }
}

export function del(fs: NodeFs, conf: NetConf, c: Call | string): void {
  hostLocal.del(conf, rt(typeof c === 'string' ? { id: c } : c), { fs });
}

export function check(fs: NodeFs, conf: NetConf, c: Call | string): string | null {
  try {
    hostLocal.check(conf, rt(typeof c === 'string' ? { id: c } : c), { fs });
    return null;
  } catch (e) {
    return errorOf(e);
  }
}

/** A plugin error: always a CniError with code 999, as skel reports a plugin's own errors. */
export function errorOf(e: unknown): string {
  expect(e).toBeInstanceOf(CniError);
  expect((e as CniError).code).toBe(999);
  return (e as CniError).message;
}

export function addError(conf: NetConf, fs: NodeFs = new MemFs(), c: Call | string = 'c'): string {
  try {
    add(fs, conf, c);
  } catch (e) {
    return errorOf(e);
  }
  throw new Error('ADD succeeded');
}

/** Files of one network's store directory, name → contents. */
export function storeFiles(fs: MemFs, network = 'cbr0', dataDir = '/var/lib/cni/networks'): Record<string, string> {
  const dir = `${dataDir}/${network}`;
  const out: Record<string, string> = {};
  for (const [path, data] of Object.entries(fs.dump(dir))) out[path.slice(dir.length + 1)] = data;
  return out;
}
