// flannel's backend interface (pkg/backend): a backend, looked up by its type name, registers the node's network
// (makes its devices and acquires the lease through the subnet manager) and then keeps the node's kernel in step
// with the other nodes' leases as events arrive. Backends register their constructor when their module loads, as
// flannel's do in init(); an unregistered type is flannel's `unknown backend type: …`.

import type { NetDev } from '../../netns/netdev.js';
import type { NetNs } from '../../netns/netns.js';
import type { Ipv4 } from '../../wire/addr.js';
import type { FlannelNetConf } from './config.js';
import type { Lease, LeaseEvent } from './lease.js';
import type { OpLog } from './oplog.js';
import type { KubeSubnetManager } from './subnet-manager.js';

/** backend.ExternalInterface: the interface flannel talks to other nodes through. */
export interface ExternalInterface {
  iface: NetDev;
  /** The interface's first IPv4 address. */
  ifaceAddr: Ipv4;
  /** The address other nodes reach this one at (--public-ip, default the interface address). */
  extAddr: Ipv4;
}

/** What a backend works with on its node. */
export interface BackendContext {
  nodeName: string;
  ns: NetNs;
  ext: ExternalInterface;
  config: FlannelNetConf;
  sm: KubeSubnetManager;
  log: OpLog;
}

/** backend.Network: the registered network of one node. */
export interface BackendNetwork {
  readonly lease: Lease;
  /** The backend's own device (vxlan's flannel.N), when it has one. */
  readonly device?: NetDev;
  /** The MTU written to subnet.env. */
  mtu(): number;
  handleSubnetEvents(batch: LeaseEvent[]): void;
}

export type BackendCtor = (ctx: BackendContext) => BackendNetwork;

const constructors = new Map<string, BackendCtor>();

export function registerBackend(type: string, ctor: BackendCtor): void {
  constructors.set(type, ctor);
}

/** GetBackend: the type compared in lower case. */
export function getBackend(type: string): BackendCtor {
  const t = type.toLowerCase();
  const ctor = constructors.get(t);
  if (!ctor) throw new Error(`unknown backend type: ${t}`);
  return ctor;
}

/** `prefix: message` keeping a cause's details (what the cluster knew beyond flanneld's words). */
export function wrapError(prefix: string, e: unknown): Error & { details?: string } {
  const err: Error & { details?: string } = new Error(`${prefix}: ${e instanceof Error ? e.message : String(e)}`);
  const details = (e as { details?: unknown } | null)?.details;
  if (typeof details === 'string') err.details = details;
  return err;
}
