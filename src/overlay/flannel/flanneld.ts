// flanneld on one node (flannel v0.28.9's main.go with --kube-subnet-mgr), in its start-up order:
//   1. the external interface: the one named (--iface), its first IPv4 address, the public IP (--public-ip,
//      default that address);
//   2. the backend named by Backend.Type registers the network: devices, then AcquireLease through the subnet
//      manager, then the device's address (vxlan);
//   3. with --ip-masq, the masquerade rules (after deleting those of the previous network/subnet read from
//      subnet.env); with --iptables-forward-rules (default on), the FORWARD accept rules;
//   4. subnet.env written for the CNI plugin;
//   5. the backend runs: the other nodes' leases arrive as events (first the current ones, then changes) and the
//      backend programs routes, neighbours and FDB entries for them.
// Everything it does to the node is in `log` as shell commands (see oplog.ts). A failure in steps 1–2 is fatal
// (flanneld exits), with flanneld's log message; failures while handling events are recorded and skipped.
// Limits: no restart handling of an existing VXLAN device beyond reusing it, no healthz, no node condition patch.

import type { NodeFs } from '../../cni/types.js';
import type { NetDev } from '../../netns/netdev.js';
import type { NetNs } from '../../netns/netns.js';
import { formatIpv4, formatMac, type Ipv4 } from '../../wire/addr.js';
import { type BackendNetwork, type ExternalInterface, getBackend } from './backend.js';
import type { FlannelNetConf } from './config.js';
import { IptablesManager } from './iptables.js';
import type { Lease, LeaseEvent } from './lease.js';
import { OpLog } from './oplog.js';
import { readCidrFromSubnetFile, SUBNET_FILE, writeSubnetFile } from './subnet-env.js';
import { FlannelError, type KubeSubnetManager } from './subnet-manager.js';

export interface FlanneldOptions {
  /** --ip-masq (flanneld's default false; kube-flannel passes it). */
  ipMasq?: boolean;
  /** --ip-masq-fully-random-disable. */
  ipMasqRandomFullyDisable?: boolean;
  /** --iptables-forward-rules (default true). */
  iptablesForwardRules?: boolean;
  /** --subnet-file. */
  subnetFile?: string;
  /** --public-ip. */
  publicIp?: Ipv4;
}

export interface FlanneldState {
  node: string;
  started: boolean;
  lease?: Lease;
  /** The MTU in subnet.env. */
  mtu?: number;
  iface?: string;
  publicIp?: string;
  device?: { name: string; mac: string; mtu: number };
  subnetEnv?: string;
  commands: string[];
}

export class Flanneld {
  readonly log = new OpLog();
  readonly iptables: IptablesManager;
  private net: BackendNetwork | undefined;
  private extIface: ExternalInterface | undefined;
  /** Every lease event the backend handled, in order. */
  readonly events: LeaseEvent[] = [];

  constructor(
    readonly nodeName: string,
    readonly ns: NetNs,
    readonly fs: NodeFs,
    /** --iface. */
    readonly ifaceName: string,
    readonly config: FlannelNetConf,
    readonly sm: KubeSubnetManager,
    readonly opts: FlanneldOptions = {},
  ) {
    this.iptables = new IptablesManager(ns, this.log);
  }

  get started(): boolean {
    return this.net !== undefined;
  }

  get lease(): Lease {
    if (!this.net) throw new FlannelError(`flanneld on node "${this.nodeName}" has not started`);
    return this.net.lease;
  }

  /** The MTU in subnet.env. */
  get mtu(): number {
    if (!this.net) throw new FlannelError(`flanneld on node "${this.nodeName}" has not started`);
    return this.net.mtu();
  }

  /** The backend's device (flannel.N for vxlan). */
  get device(): NetDev | undefined {
    return this.net?.device;
  }

  get ext(): ExternalInterface | undefined {
    return this.extIface;
  }

  get subnetFile(): string {
    return this.opts.subnetFile ?? SUBNET_FILE;
  }

  /** subnet.env's text as the node's files hold it. */
  subnetEnv(): string | undefined {
    return this.fs.read(this.subnetFile);
  }

  /** The commands that reproduce what this flanneld did. */
  commands(): string[] {
    return this.log.commands();
  }

  /** ipmatch.LookupExtIface for an interface given by name. */
  private lookupExtIface(): ExternalInterface {
    const iface = this.ns.devs.get(this.ifaceName);
    if (!iface)
      throw new FlannelError(
        'Failed to find interface to use that matches the interfaces and/or regexes provided',
        `Could not find valid interface matching ${this.ifaceName}: error looking up interface ${this.ifaceName}: route ip+net: no such network interface`,
      );
    const addr = this.ns.addrsOf(iface)[0];
    if (!addr) throw new FlannelError(`failed to find IPv4 address for interface ${iface.name}`);
    return { iface, ifaceAddr: addr.addr, extAddr: this.opts.publicIp ?? addr.addr };
  }

  /** Runs the start-up sequence; throws FlannelError with flanneld's fatal log message. */
  start(): void {
    if (this.net) throw new FlannelError(`flanneld on node "${this.nodeName}" is already running`);
    const ext = this.lookupExtIface();
    this.extIface = ext;
    let ctor: ReturnType<typeof getBackend>;
    try {
      ctor = getBackend(this.config.backendType);
    } catch (e) {
      throw new FlannelError(`Error fetching backend: ${(e as Error).message}`);
    }
    let net: BackendNetwork;
    try {
      net = ctor({ nodeName: this.nodeName, ns: this.ns, ext, config: this.config, sm: this.sm, log: this.log });
    } catch (e) {
      const err = e as Error & { details?: string };
      throw new FlannelError(`Error registering network: ${err.message}`, err.details);
    }
    this.net = net;
    const network = this.config.network;
    const ipMasq = this.opts.ipMasq ?? false;
    if (ipMasq) {
      const prevNetwork = readCidrFromSubnetFile(this.fs, 'FLANNEL_NETWORK', this.subnetFile);
      const prevSubnet = readCidrFromSubnetFile(this.fs, 'FLANNEL_SUBNET', this.subnetFile);
      this.iptables.setupMasqRules(
        network,
        net.lease.subnet,
        prevNetwork,
        prevSubnet,
        !this.opts.ipMasqRandomFullyDisable,
      );
    }
    if (this.opts.iptablesForwardRules ?? true) this.iptables.setupForwardRules(network);
    writeSubnetFile(this.fs, { network, subnet: net.lease.subnet, mtu: net.mtu(), ipMasq }, this.subnetFile);
    this.sm.watchLeases(this.nodeName, (batch) => {
      this.events.push(...batch);
      net.handleSubnetEvents(batch);
    });
  }

  /** The periodic iptables check (flanneld --iptables-resync, 5 s). */
  resync(): void {
    this.iptables.resync();
  }

  /** flanneld stops: it no longer follows leases; what it set up stays, as flanneld leaves it on exit. */
  stop(): void {
    this.sm.unwatch(this.nodeName);
  }

  /** What the node's flanneld holds, for display. */
  state(): FlanneldState {
    const net = this.net;
    const dev = net?.device;
    return {
      node: this.nodeName,
      started: net !== undefined,
      ...(net ? { lease: net.lease, mtu: net.mtu() } : {}),
      ...(this.extIface ? { iface: this.extIface.iface.name, publicIp: formatIpv4(this.extIface.extAddr) } : {}),
      ...(dev ? { device: { name: dev.name, mac: formatMac(dev.mac), mtu: dev.mtu } } : {}),
      ...(this.subnetEnv() !== undefined ? { subnetEnv: this.subnetEnv()! } : {}),
      commands: this.commands(),
    };
  }

  /** A line for people: node, lease, public IP, MTU. */
  describe(): string {
    if (!this.net) return `${this.nodeName}: not started`;
    const l = this.net.lease;
    return `${this.nodeName}: lease ${formatIpv4(l.subnet.addr)}/${l.subnet.len} public-ip ${formatIpv4(l.attrs.publicIp)} ${l.attrs.backendType} mtu ${this.net.mtu()}`;
  }
}
