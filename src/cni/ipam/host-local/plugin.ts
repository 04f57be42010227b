// The host-local IPAM plugin (containernetworking/plugins plugins/ipam/host-local main.go) as an in-process
// object. ADD loads the configuration, reads `resolvConf` if set, and takes one address from every range set in
// order, a requested address going to the first set that contains it; on any failure the addresses already taken
// for this container and interface are released, and a requested address that no set took fails the ADD. DEL
// releases this container's addresses on this interface and succeeds when there are none. CHECK succeeds when the
// store holds an address for the container. Errors carry code 999 (types.ErrInternal), which is what skel gives a
// plugin's plain error, with the reference's messages.
// Difference: when several requested addresses fall in one set, the first in request order is used (the
// reference picks by Go map order) and leftovers are listed in request order.

import { formatIpv4, type Ipv4 } from '../../../wire/addr.js';
import { CniError, type IpConfig, type NetConf, type Result } from '../../types.js';
import type { IpamEnv, IpamPlugin, IpamRuntime } from '../index.js';
import { type Allocated, IpAllocator } from './allocator.js';
import { type IpamConfig, loadIpamConfig } from './config.js';
import { parseResolvConf } from './dns.js';
import { rangeSetContains } from './range.js';
import { DiskStore } from './store.js';

/** skel's code for a plugin error that is not already a CNI error object. */
export const ERR_INTERNAL = 999;

/** The result version host-local builds before the runtime converts it to the configuration's version. */
const IMPLEMENTED_VERSION = '1.0.0';

function asCniError(e: unknown): never {
  if (e instanceof CniError) throw e;
  throw new CniError(ERR_INTERNAL, e instanceof Error ? e.message : String(e));
}

function load(conf: NetConf, rt: IpamRuntime): IpamConfig {
  try {
    return loadIpamConfig(conf, rt.args);
  } catch (e) {
    return asCniError(e);
  }
}

function add(conf: NetConf, rt: IpamRuntime, env: IpamEnv): Result {
  const ipam = load(conf, rt);
  try {
    const dns = ipam.resolvConf !== '' ? parseResolvConf(env.fs, ipam.resolvConf) : undefined;
    const store = new DiskStore(env.fs, ipam.name, ipam.dataDir);
    const allocs: IpAllocator[] = [];
    const releaseAll = (): void => {
      for (const a of allocs) a.release(rt.containerId, rt.ifName);
    };
    const requested: Ipv4[] = [];
    for (const ip of ipam.ipArgs) if (!requested.includes(ip)) requested.push(ip);

    const ips: IpConfig[] = [];
    ipam.ranges.forEach((set, idx) => {
      const alloc = new IpAllocator(set, store, idx);
      const i = requested.findIndex((ip) => rangeSetContains(set, ip));
      const want = i >= 0 ? requested.splice(i, 1)[0]! : null;
      let got: Allocated;
      try {
        got = alloc.get(rt.containerId, rt.ifName, want);
      } catch (e) {
        releaseAll();
        throw new Error(`failed to allocate for range ${idx}: ${(e as Error).message}`);
      }
      allocs.push(alloc);
      ips.push({ address: `${formatIpv4(got.address)}/${got.prefixLen}`, gateway: formatIpv4(got.gateway) });
    });

    if (requested.length > 0) {
      releaseAll();
      throw new Error(`failed to allocate all requested IPs: ${requested.map(formatIpv4).join(' ')}`);
    }

    const result: Result = { cniVersion: IMPLEMENTED_VERSION, ips };
    if (ipam.routes.length > 0) result.routes = ipam.routes.map((r) => ({ ...r }));
    if (dns !== undefined) result.dns = dns;
    return result;
  } catch (e) {
    return asCniError(e);
  }
}

function del(conf: NetConf, rt: IpamRuntime, env: IpamEnv): void {
  const ipam = load(conf, rt);
  try {
    const store = new DiskStore(env.fs, ipam.name, ipam.dataDir);
    // One release per range set, as the reference loops; the first already removes every matching file.
    ipam.ranges.forEach((set, idx) => {
      new IpAllocator(set, store, idx).release(rt.containerId, rt.ifName);
    });
  } catch (e) {
    asCniError(e);
  }
}

function check(conf: NetConf, rt: IpamRuntime, env: IpamEnv): void {
  const ipam = load(conf, rt);
  let found = false;
  try {
    found = new DiskStore(env.fs, ipam.name, ipam.dataDir).findById(rt.containerId, rt.ifName);
  } catch (e) {
    asCniError(e);
  }
  if (!found) {
    throw new CniError(ERR_INTERNAL, `host-local: Failed to find address added by container ${rt.containerId}`);
  }
}

export const hostLocal: IpamPlugin = { type: 'host-local', add, del, check };
