// flannel's net-conf.json (pkg/subnet/config.go ParseConfig, then the backend's own decoding): Go's
// encoding/json rules over a document parsed with positions, so every error carries its line and column.
// - subnet.Config: EnableIPv4 (default true), EnableIPv6, EnableNFTables, Network and SubnetMin/SubnetMax (flannel's
//   ip.IP4Net / ip.IP4 with their own parsers: `invalid CIDR address: …`, `invalid IP address format`), SubnetLen,
//   Backend kept raw; a missing Backend means type "udp", as ParseConfig says.
// - Backend.Type picks the backend, case-insensitively (`unknown backend type: …` otherwise, as the backend manager
//   answers); vxlan's VXLANConfig: VNI (default 1), Port (0 = the kernel's default 8472), MTU (default: the public
//   interface's), GBP, Learning, DirectRouting. host-gw reads no options.
// podwire refuses what it does not model, by name: backends other than vxlan and host-gw, IPv6 (EnableIPv6, or
// EnableIPv4 off), the nftables traffic manager, VXLAN GBP. CheckNetworkConfig's defaults live in check.ts.
// Limits: IPv6 fields are not decoded beyond being refused.

import { type JsonDoc, type JsonPath, JsonSyntaxError, parseJson } from '../../cni/spec/json.js';
import type { Cidr, Ipv4 } from '../../wire/addr.js';
import {
  boolField,
  customField,
  decodeStruct,
  errorAt,
  type FieldDecoder,
  FlannelConfigError,
  fieldPath,
  intField,
  stringField,
  trimQuotes,
} from './go-json.js';
import { goParseCidr, goParseIp4 } from './go-net.js';

/** The VNI flannel's vxlan backend uses when the configuration names none. */
export const DEFAULT_VNI = 1;
/** The destination port the kernel gives a VXLAN device created without one (module parameter vxlan.udp_port). */
export const KERNEL_VXLAN_PORT = 8472;
/** Where kube-flannel mounts net-conf.json (flanneld --net-config-path). */
export const NET_CONF_PATH = '/etc/kube-flannel/net-conf.json';

/** kube-flannel.yml's net-conf.json (flannel v0.28.x). */
export const KUBE_FLANNEL_NET_CONF = `{
  "Network": "10.244.0.0/16",
  "EnableNFTables": false,
  "Backend": {
    "Type": "vxlan"
  }
}
`;

/** The backends flannel registers; podwire runs only vxlan and host-gw. */
const FLANNEL_BACKENDS = ['alloc', 'extension', 'host-gw', 'ipip', 'ipsec', 'tencent-vpc', 'udp', 'vxlan', 'wireguard'];

export interface VxlanBackendConfig {
  type: 'vxlan';
  vni: number;
  /** 0: not sent to the kernel, which then uses 8472. */
  port: number;
  /** The underlay MTU the device's MTU (this − 50) is derived from; null: the public interface's MTU. */
  mtu: number | null;
  learning: boolean;
  directRouting: boolean;
}

export interface HostGwBackendConfig {
  type: 'host-gw';
}

export type BackendConfig = VxlanBackendConfig | HostGwBackendConfig;

/** subnet.Config after ParseConfig, with the backend's own configuration decoded. */
export interface FlannelNetConf {
  readonly doc: JsonDoc;
  enableIPv4: boolean;
  enableIPv6: boolean;
  enableNFTables: boolean;
  /** The network (host bits cleared, as ParseCIDR returns it); 0.0.0.0/0 when missing (ip.IP4Net's Empty). */
  network: Cidr;
  /** 0 when not given (CheckNetworkConfig fills the defaults). */
  subnetMin: Ipv4;
  subnetMax: Ipv4;
  subnetLen: number;
  /** Backend.Type as written ("udp" when there is no Backend). */
  backendType: string;
  backend: BackendConfig;
  /** Where members were found, for errors found later (path of each Go field that was present). */
  readonly paths: Readonly<Record<string, JsonPath>>;
}

function cidrUnmarshal(set: (c: Cidr) => void): (raw: string) => string | null {
  return (raw) => {
    const p = goParseCidr(trimQuotes(raw));
    if (!p.ok) return p.error;
    if (p.v6) return 'invalid IPv4 CIDR format';
    set(p.cidr);
    return null;
  };
}

function ip4Unmarshal(set: (ip: Ipv4) => void): (raw: string) => string | null {
  return (raw) => {
    const p = goParseIp4(trimQuotes(raw));
    if (!p.ok) return p.error;
    set(p.ip);
    return null;
  };
}

function parseDoc(text: string, file: string): JsonDoc {
  try {
    return parseJson(text, file);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new FlannelConfigError(e.reason, e.file, e.line, e.col);
    throw e;
  }
}

function prefixed(prefix: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof FlannelConfigError)
      throw new FlannelConfigError(`${prefix}${e.reason}`, e.file, e.line, e.col, e.field);
    throw e;
  }
}

/** parseVXLANConfig: VXLANConfig's fields (JSON names vni, port, mtu, gbp, learning, directRouting). */
function parseVxlanConfig(doc: JsonDoc, path: JsonPath | undefined): VxlanBackendConfig {
  const cfg: VxlanBackendConfig = {
    type: 'vxlan',
    vni: DEFAULT_VNI,
    port: 0,
    mtu: null,
    learning: false,
    directRouting: false,
  };
  if (path === undefined) return cfg;
  let gbpPath: JsonPath | undefined;
  let gbp = false;
  let vniPath: JsonPath | undefined;
  let portPath: JsonPath | undefined;
  prefixed('error decoding VXLAN backend config: ', () =>
    decodeStruct(
      doc,
      path,
      'VXLANConfig',
      'vxlan.VXLANConfig',
      {
        VNI: (c) => {
          vniPath = c.path;
          intField('int', (n) => {
            cfg.vni = n;
          })(c);
        },
        Port: (c) => {
          portPath = c.path;
          intField('int', (n) => {
            cfg.port = n;
          })(c);
        },
        MTU: intField('int', (n) => {
          cfg.mtu = n;
        }),
        GBP: (c) => {
          gbpPath = c.path;
          boolField((b) => {
            gbp = b;
          })(c);
        },
        Learning: boolField((b) => {
          cfg.learning = b;
        }),
        DirectRouting: boolField((b) => {
          cfg.directRouting = b;
        }),
      },
      { VNI: 'vni', Port: 'port', MTU: 'mtu', GBP: 'gbp', Learning: 'learning', DirectRouting: 'directRouting' },
    ),
  );
  // netlink sends the VNI as a u32; the kernel refuses one of 2^24 or more.
  if (cfg.vni < 0 || cfg.vni >= 0x1000000)
    throw errorAt(
      doc,
      vniPath ?? path,
      'failed to create vxlan device: numerical result out of range',
      fieldPath(vniPath ?? path),
    );
  if (cfg.port < 0 || cfg.port > 65535)
    throw errorAt(
      doc,
      portPath ?? path,
      `Port ${cfg.port} is not a UDP port (podwire refuses what netlink would truncate)`,
      fieldPath(portPath ?? path),
    );
  if (gbp)
    throw errorAt(
      doc,
      gbpPath ?? path,
      'GBP is not supported by podwire: VXLAN group policy extension is not modelled',
      fieldPath(gbpPath ?? path),
    );
  return cfg;
}

/** ParseConfig plus the backend's configuration; throws FlannelConfigError with flannel's wording and a position. */
export function parseNetConf(text: string, file = 'net-conf.json'): FlannelNetConf {
  const doc = parseDoc(text, file);
  const paths: Record<string, JsonPath> = {};
  const seen = (name: string, path: JsonPath): void => {
    paths[name] = path;
  };
  const conf = {
    doc,
    enableIPv4: true,
    enableIPv6: false,
    enableNFTables: false,
    network: { addr: 0, len: 0 },
    subnetMin: 0,
    subnetMax: 0,
    subnetLen: 0,
    backendType: 'udp',
    paths,
  };
  let backendPath: JsonPath | undefined;
  const track =
    (name: string, d: FieldDecoder): FieldDecoder =>
    (c) => {
      seen(name, c.path);
      d(c);
    };
  decodeStruct(doc, [], 'Config', 'subnet.Config', {
    EnableIPv4: track(
      'EnableIPv4',
      boolField((b) => {
        conf.enableIPv4 = b;
      }),
    ),
    EnableIPv6: track(
      'EnableIPv6',
      boolField((b) => {
        conf.enableIPv6 = b;
      }),
    ),
    EnableNFTables: track(
      'EnableNFTables',
      boolField((b) => {
        conf.enableNFTables = b;
      }),
    ),
    Network: track(
      'Network',
      customField(
        cidrUnmarshal((c) => {
          conf.network = c;
        }),
      ),
    ),
    IPv6Network: track('IPv6Network', () => {}),
    SubnetMin: track(
      'SubnetMin',
      customField(
        ip4Unmarshal((ip) => {
          conf.subnetMin = ip;
        }),
      ),
    ),
    SubnetMax: track(
      'SubnetMax',
      customField(
        ip4Unmarshal((ip) => {
          conf.subnetMax = ip;
        }),
      ),
    ),
    SubnetLen: track(
      'SubnetLen',
      intField('uint', (n) => {
        conf.subnetLen = n;
      }),
    ),
    IPv6SubnetLen: track(
      'IPv6SubnetLen',
      intField('uint', () => {}),
    ),
    Backend: (c) => {
      backendPath = c.path;
      seen('Backend', c.path);
    },
  });

  // parseBackendType: the raw Backend decoded into struct { Type string }.
  let typePath: JsonPath | undefined;
  if (backendPath !== undefined) {
    conf.backendType = '';
    prefixed('error decoding Backend property of config: ', () =>
      decodeStruct(doc, backendPath!, '', 'struct { Type string }', {
        Type: (c) => {
          typePath = c.path;
          stringField((s) => {
            conf.backendType = s;
          })(c);
        },
      }),
    );
  }
  if (typePath) seen('Backend.Type', typePath);
  const where = typePath ?? backendPath ?? [];

  if (conf.enableIPv6)
    throw errorAt(doc, paths.EnableIPv6!, 'EnableIPv6 is not supported by podwire: IPv6 is not modelled', 'EnableIPv6');
  if (!conf.enableIPv4)
    throw errorAt(
      doc,
      paths.EnableIPv4!,
      'EnableIPv4 false is not supported by podwire: IPv6 is not modelled',
      'EnableIPv4',
    );
  if (conf.enableNFTables)
    throw errorAt(
      doc,
      paths.EnableNFTables!,
      'EnableNFTables is not supported by podwire: only the iptables traffic manager is modelled',
      'EnableNFTables',
    );

  const type = conf.backendType.toLowerCase();
  let backend: BackendConfig;
  if (type === 'vxlan') backend = parseVxlanConfig(doc, backendPath);
  else if (type === 'host-gw') backend = { type: 'host-gw' };
  else if (FLANNEL_BACKENDS.includes(type))
    throw errorAt(
      doc,
      where,
      `backend type "${type}" is not supported by podwire (the vxlan and host-gw backends are modelled)`,
      'Backend.Type',
    );
  else throw errorAt(doc, where, `unknown backend type: ${type}`, 'Backend.Type');
  return { ...conf, backend };
}
