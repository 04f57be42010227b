// A plain-data snapshot of a scenario's topology (namespaces, devices, links, bridges), taken from the emulated
// kernel after setup. Diagrams and JSON output read this instead of live kernel objects, so they stay independent
// of the netns layer. Device kinds with facts of their own (a VXLAN device's VNI and remotes) add them through
// optional fields, filled by the device itself (NetDev.topoInfo).

export type DevKind = 'loopback' | 'veth' | 'bridge' | 'vxlan' | 'dummy';

export interface TopoDevice {
  name: string;
  ifindex: number;
  kind: DevKind;
  mac: string;
  mtu: number;
  up: boolean;
  /** `UP`, `DOWN`, `UNKNOWN` or `LOWERLAYERDOWN`, as `ip -br link` prints it. */
  operState: string;
  addrs: string[];
  /** Name of the bridge this device is enslaved to. */
  master?: string;
  /** For a veth: where its peer lives. */
  peer?: { ns: string; dev: string };
  /** For a VXLAN device: what `ip -d link` and `bridge fdb` show of it. */
  vxlan?: TopoVxlan;
}

export interface TopoVxlan {
  /** VXLAN Network Identifier (`id`). */
  vni: number;
  /** Source address of the outer IP header (`local`), when set. */
  local?: string;
  /** Destination UDP port of the outer header (`dstport`; 8472 for the Linux default, 4789 for IANA's). */
  dstport: number;
  /** Destination IPs of the FDB entries (`dst`), in FDB order, each once. */
  remotes: string[];
}

export interface TopoNamespace {
  name: string;
  devices: TopoDevice[];
  ipForward: boolean;
}

export interface TopologySnapshot {
  namespaces: TopoNamespace[];
}
