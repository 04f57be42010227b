// Per-namespace sysctls that the model honours, with the defaults of a fresh network namespace. Keys use the dotted
// form (`net.ipv4.ip_forward`); `net.ipv4.ip_forward` and `net.ipv4.conf.all.forwarding` are one setting, as in the
// kernel. Per-device keys (`net.ipv4.conf.eth0.arp_ignore`) exist only while the device does. A key the model does
// not implement is refused by name rather than stored and ignored; `rp_filter` is accepted only as 0 because
// reverse-path filtering is not modelled.

import { NetlinkError } from './errors.js';

export interface DevConf {
  forwarding: number;
  arp_ignore: number;
  arp_announce: number;
  proxy_arp: number;
  rp_filter: number;
  route_localnet: number;
  send_redirects: number;
  accept_redirects: number;
}

export interface NeighParms {
  mcast_solicit: number;
  ucast_solicit: number;
  app_solicit: number;
  retrans_time_ms: number;
  base_reachable_time_ms: number;
  delay_first_probe_time: number;
  gc_stale_time: number;
}

const DEVCONF_DEFAULTS: DevConf = {
  forwarding: 0,
  arp_ignore: 0,
  arp_announce: 0,
  proxy_arp: 0,
  rp_filter: 0,
  route_localnet: 0,
  send_redirects: 1,
  accept_redirects: 1,
};

const NEIGH_DEFAULTS: NeighParms = {
  mcast_solicit: 3,
  ucast_solicit: 3,
  app_solicit: 0,
  retrans_time_ms: 1000,
  base_reachable_time_ms: 30000,
  delay_first_probe_time: 5,
  gc_stale_time: 60,
};

/** Keys accepted only with the values the model implements. */
const RESTRICTED: Record<string, { allowed: number[]; why: string }> = {
  rp_filter: { allowed: [0], why: 'reverse-path filtering is not modelled' },
  send_redirects: { allowed: [0, 1], why: '' },
  accept_redirects: { allowed: [0, 1], why: '' },
  arp_ignore: { allowed: [0, 1, 2], why: 'arp_ignore 3 and above are not modelled' },
  arp_announce: { allowed: [0, 1, 2], why: '' },
  proxy_arp: { allowed: [0], why: 'proxy ARP is not modelled' },
  route_localnet: { allowed: [0, 1], why: '' },
};

export class Sysctl {
  ipDefaultTtl = 64;
  icmpEchoIgnoreAll = 0;
  icmpEchoIgnoreBroadcasts = 1;
  ipLocalPortRange: [number, number] = [32768, 60999];
  /** 1 as soon as br_netfilter is loaded (built in on current kernels); kubeadm checks for it. */
  bridgeNfCallIptables = 1;
  readonly all: DevConf = { ...DEVCONF_DEFAULTS };
  readonly default: DevConf = { ...DEVCONF_DEFAULTS };
  readonly dev = new Map<string, DevConf>();
  readonly neighDefault: NeighParms = { ...NEIGH_DEFAULTS };
  readonly neighDev = new Map<string, NeighParms>();
  /** Keys owned by extensions (netfilter adds `net.netfilter.*`, …). */
  private extra = new Map<string, { get: () => string; set: (v: string) => void }>();

  registerKey(key: string, get: () => string, set: (v: string) => void): void {
    this.extra.set(key, { get, set });
  }

  get ipForward(): boolean {
    return this.all.forwarding === 1;
  }

  /** Forwarding for packets arriving on `dev` (IN_DEV_FORWARD). */
  devForwarding(dev: string): boolean {
    return (this.dev.get(dev)?.forwarding ?? this.all.forwarding) === 1;
  }

  devConf(dev: string): DevConf {
    return this.dev.get(dev) ?? this.all;
  }

  /** The effective value of a per-device setting where the kernel takes the max of `all` and the device. */
  confMax(dev: string, key: keyof DevConf): number {
    return Math.max(this.all[key], this.dev.get(dev)?.[key] ?? this.default[key]);
  }

  neighParms(dev: string): NeighParms {
    return this.neighDev.get(dev) ?? this.neighDefault;
  }

  /** Called when a device appears: it takes `default`'s values, as the kernel copies ipv4_devconf_dflt. */
  addDevice(name: string): void {
    this.dev.set(name, { ...this.default, forwarding: this.all.forwarding });
    this.neighDev.set(name, { ...this.neighDefault });
  }

  removeDevice(name: string): void {
    this.dev.delete(name);
    this.neighDev.delete(name);
  }

  renameDevice(from: string, to: string): void {
    const c = this.dev.get(from);
    const n = this.neighDev.get(from);
    this.removeDevice(from);
    if (c) this.dev.set(to, c);
    if (n) this.neighDev.set(to, n);
  }

  keys(): string[] {
    const k = [
      'net.ipv4.ip_forward',
      'net.ipv4.ip_default_ttl',
      'net.ipv4.icmp_echo_ignore_all',
      'net.ipv4.icmp_echo_ignore_broadcasts',
      'net.ipv4.ip_local_port_range',
      'net.bridge.bridge-nf-call-iptables',
    ];
    for (const scope of ['all', 'default', ...this.dev.keys()])
      for (const f of Object.keys(DEVCONF_DEFAULTS)) k.push(`net.ipv4.conf.${scope}.${f}`);
    for (const scope of ['default', ...this.neighDev.keys()])
      for (const f of Object.keys(NEIGH_DEFAULTS)) k.push(`net.ipv4.neigh.${scope}.${f}`);
    k.push(...this.extra.keys());
    return k;
  }

  get(key: string): string {
    const ex = this.extra.get(key);
    if (ex) return ex.get();
    switch (key) {
      case 'net.ipv4.ip_forward':
        return String(this.all.forwarding);
      case 'net.ipv4.ip_default_ttl':
        return String(this.ipDefaultTtl);
      case 'net.ipv4.icmp_echo_ignore_all':
        return String(this.icmpEchoIgnoreAll);
      case 'net.ipv4.icmp_echo_ignore_broadcasts':
        return String(this.icmpEchoIgnoreBroadcasts);
      case 'net.ipv4.ip_local_port_range':
        return `${this.ipLocalPortRange[0]}\t${this.ipLocalPortRange[1]}`;
      case 'net.bridge.bridge-nf-call-iptables':
        return String(this.bridgeNfCallIptables);
    }
    const conf = this.confSlot(key);
    if (conf) return String(conf.obj[conf.field]);
    const neigh = this.neighSlot(key);
    if (neigh) return String(neigh.obj[neigh.field]);
    throw unknownKey(key);
  }

  set(key: string, value: string): void {
    const ex = this.extra.get(key);
    if (ex) {
      ex.set(value);
      return;
    }
    if (key === 'net.ipv4.ip_local_port_range') {
      const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(value);
      if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535 || Number(m[1]) < 1)
        throw new NetlinkError(`sysctl: setting key "${key}": Invalid argument`);
      this.ipLocalPortRange = [Number(m[1]), Number(m[2])];
      return;
    }
    const n = intValue(key, value);
    switch (key) {
      case 'net.ipv4.ip_forward':
        this.setForwarding(bool(key, n));
        return;
      case 'net.ipv4.ip_default_ttl':
        if (n < 1 || n > 255) throw new NetlinkError(`sysctl: setting key "${key}": Invalid argument`);
        this.ipDefaultTtl = n;
        return;
      case 'net.ipv4.icmp_echo_ignore_all':
        this.icmpEchoIgnoreAll = bool(key, n);
        return;
      case 'net.ipv4.icmp_echo_ignore_broadcasts':
        this.icmpEchoIgnoreBroadcasts = bool(key, n);
        return;
      case 'net.bridge.bridge-nf-call-iptables':
        this.bridgeNfCallIptables = bool(key, n);
        return;
    }
    const conf = this.confSlot(key);
    if (conf) {
      const r = RESTRICTED[conf.field];
      if (r && !r.allowed.includes(n))
        throw new NetlinkError(
          `sysctl: ${key}=${value} is not supported: ${r.why || `allowed ${r.allowed.join(', ')}`}`,
        );
      if (conf.field === 'forwarding' && conf.scope === 'all') {
        this.setForwarding(bool(key, n));
        return;
      }
      conf.obj[conf.field] = conf.field === 'forwarding' ? bool(key, n) : n;
      return;
    }
    const neigh = this.neighSlot(key);
    if (neigh) {
      if (n < 0) throw new NetlinkError(`sysctl: setting key "${key}": Invalid argument`);
      neigh.obj[neigh.field] = n;
      return;
    }
    throw unknownKey(key);
  }

  /**
   * Changing all.forwarding also sets every device's and default's forwarding, as devinet_sysctl_forward does —
   * only on a change: writing the value it already has leaves per-device settings alone.
   */
  private setForwarding(v: number): void {
    if (v === this.all.forwarding) return;
    this.all.forwarding = v;
    this.default.forwarding = v;
    for (const c of this.dev.values()) c.forwarding = v;
  }

  private confSlot(key: string): { obj: DevConf; field: keyof DevConf; scope: string } | null {
    const m = /^net\.ipv4\.conf\.(.+)\.([a-z_]+)$/.exec(key);
    if (!m || !(m[2]! in DEVCONF_DEFAULTS)) return null;
    const scope = m[1]!;
    const obj = scope === 'all' ? this.all : scope === 'default' ? this.default : this.dev.get(scope);
    if (!obj) return null;
    return { obj, field: m[2] as keyof DevConf, scope };
  }

  private neighSlot(key: string): { obj: NeighParms; field: keyof NeighParms } | null {
    const m = /^net\.ipv4\.neigh\.(.+)\.([a-z_]+)$/.exec(key);
    if (!m || !(m[2]! in NEIGH_DEFAULTS)) return null;
    const obj = m[1] === 'default' ? this.neighDefault : this.neighDev.get(m[1]!);
    if (!obj) return null;
    return { obj, field: m[2] as keyof NeighParms };
  }
}

function unknownKey(key: string): NetlinkError {
  return new NetlinkError(
    `sysctl: cannot stat /proc/sys/${key.replaceAll('.', '/')}: No such file or directory (or not modelled by podwire)`,
    'ENOENT',
  );
}

function intValue(key: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new NetlinkError(`sysctl: setting key "${key}": Invalid argument`);
  return Number(value.trim());
}

function bool(key: string, n: number): number {
  if (n !== 0 && n !== 1) throw new NetlinkError(`sysctl: setting key "${key}": Invalid argument`);
  return n;
}
