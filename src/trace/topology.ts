// A plain-data snapshot of a scenario's topology (namespaces, devices, links, bridges), taken from the emulated
// kernel after setup. Diagrams and JSON output read this instead of live kernel objects, so they stay independent
// of the netns layer.

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
}

export interface TopoNamespace {
  name: string;
  devices: TopoDevice[];
  ipForward: boolean;
}

export interface TopologySnapshot {
  namespaces: TopoNamespace[];
}
