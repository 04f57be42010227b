// flannel's VXLAN device (pkg/backend/vxlan/device.go) on podwire's VXLAN device (../../netns/vxlan.ts):
// - newVXLANDevice: `flannel.<VNI>` with a random locally administered MAC (flannel draws it; here the kernel's
//   seeded PRNG), MTU = the configured MTU − 50 in the same request, VNI, local = the public IP, the public
//   interface as lower device, the port when one is configured (else the kernel's 8472), learning off unless
//   configured; TTL, TOS and UDP checksum left to the kernel. The kernel caps the MTU at the lower device's − 50.
//   An existing device of that name is kept when compatible (same VNI, and lower device, local address and port
//   where both are set), else deleted and made again (ensureLink).
// - Configure: the lease's network address as a /32 (other addresses of the flannel network removed first), then
//   the device is set up.
// - The per-remote entries: a permanent ARP entry for the remote's lease network address with its VTEP MAC, and a
//   permanent FDB entry (`self`) sending that MAC to the remote's public IP; deleting them mirrors adding.

import { delAddr } from '../../netns/ifaddr.js';
import { linkDelete } from '../../netns/link.js';
import type { NetNs } from '../../netns/netns.js';
import { createVxlan, VxlanDev } from '../../netns/vxlan.js';
import { type Cidr, formatCidr, formatIpv4, formatMac, type Ipv4, inPrefix, type Mac } from '../../wire/addr.js';
import type { ExternalInterface } from './backend.js';
import { KERNEL_VXLAN_PORT, type VxlanBackendConfig } from './config.js';
import { addrAdd, linkUp, neighDel, neighReplace } from './netlink.js';
import type { OpLog } from './oplog.js';

/** encapOverhead: outer IPv4, UDP, VXLAN and inner Ethernet headers. */
export const ENCAP_OVERHEAD = 50;

/** vxlanLinksIncompat: why an existing device cannot be kept, or '' when it can. */
function incompat(have: VxlanDev, vni: number, lower: string, local: Ipv4, port: number): string {
  if (have.vni !== vni) return `vni: ${vni} vs ${have.vni}`;
  if (have.lower && have.lower.name !== lower) return `vtep (external) interface: ${lower} vs ${have.lower.name}`;
  if (have.local !== null && have.local !== local)
    return `vtep (external) IP: ${formatIpv4(local)} vs ${formatIpv4(have.local)}`;
  if (port > 0 && have.dstport !== port) return `port: ${port} vs ${have.dstport}`;
  return '';
}

export class FlannelVxlanDevice {
  private constructor(
    readonly ns: NetNs,
    readonly link: VxlanDev,
    readonly directRouting: boolean,
    private readonly log: OpLog,
  ) {}

  get name(): string {
    return this.link.name;
  }

  get mac(): Mac {
    return this.link.mac;
  }

  /** newVXLANDevice with ensureLink. */
  static create(ns: NetNs, ext: ExternalInterface, cfg: VxlanBackendConfig, log: OpLog): FlannelVxlanDevice {
    const name = `flannel.${cfg.vni}`;
    const mac = ns.kernel.rng.mac();
    const mtu = (cfg.mtu ?? ext.iface.mtu) - ENCAP_OVERHEAD;
    const port = cfg.port > 0 ? cfg.port : KERNEL_VXLAN_PORT;
    const add = (): VxlanDev =>
      log.run(
        `ip link add ${name} address ${formatMac(mac)} mtu ${mtu} type vxlan id ${cfg.vni} local ${formatIpv4(ext.extAddr)} dev ${ext.iface.name} ${cfg.learning ? 'learning' : 'nolearning'} dstport ${port}`,
        () =>
          createVxlan(ns, {
            name,
            vni: cfg.vni,
            local: ext.extAddr,
            dev: ext.iface.name,
            dstport: port,
            learning: cfg.learning,
            mac,
            mtu,
          }),
      );
    const existing = ns.devs.get(name);
    let link: VxlanDev;
    if (!existing) link = add();
    else if (existing instanceof VxlanDev && incompat(existing, cfg.vni, ext.iface.name, ext.extAddr, cfg.port) === '')
      link = existing;
    else {
      log.run(`ip link del ${name}`, () => linkDelete(existing));
      link = add();
    }
    return new FlannelVxlanDevice(ns, link, cfg.directRouting, log);
  }

  /** Configure: EnsureV4AddressOnLink(lease address/32, Network), then LinkSetUp. */
  configure(addr: Cidr, network: Cidr): void {
    const dev = this.link;
    let has = false;
    for (const a of [...this.ns.addrsOf(dev)]) {
      if (a.addr === addr.addr && a.len === addr.len) {
        has = true;
        continue;
      }
      if (inPrefix(a.addr, network.addr, network.len))
        this.log.run(`ip addr del ${formatCidr({ addr: a.addr, len: a.len })} dev ${dev.name}`, () =>
          delAddr(this.ns, dev, a.addr, a.len),
        );
    }
    if (!has) addrAdd(this.log, this.ns, dev, addr);
    linkUp(this.log, dev);
  }

  addArp(ip: Ipv4, mac: Mac): boolean {
    return neighReplace(this.log, this.ns, this.link, ip, mac);
  }

  delArp(ip: Ipv4): boolean {
    return neighDel(this.log, this.ns, this.link, ip);
  }

  /** NeighSet with AF_BRIDGE, NTF_SELF, NUD_PERMANENT: `bridge fdb replace MAC dev D dst IP self permanent`. */
  addFdb(mac: Mac, dst: Ipv4): boolean {
    return this.log.attempt(
      `bridge fdb replace ${formatMac(mac)} dev ${this.link.name} dst ${formatIpv4(dst)} self permanent`,
      () => this.link.fdbReplace(mac, dst, { state: 'permanent' }),
    );
  }

  /** NeighDel with AF_BRIDGE, NTF_SELF: `bridge fdb del MAC dev D dst IP self`. */
  delFdb(mac: Mac, dst: Ipv4): boolean {
    return this.log.attempt(`bridge fdb del ${formatMac(mac)} dev ${this.link.name} dst ${formatIpv4(dst)} self`, () =>
      this.link.fdbDel(mac, dst),
    );
  }
}
