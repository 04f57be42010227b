import { describe, expect, it } from 'vitest';
import { checkNetworkConfig } from '../../src/overlay/flannel/check.js';
import { KUBE_FLANNEL_NET_CONF, parseNetConf } from '../../src/overlay/flannel/config.js';
import { FlannelConfigError } from '../../src/overlay/flannel/go-json.js';
import { formatCidr, formatIpv4, parseIpv4 } from '../../src/wire/addr.js';

/** The error parseNetConf (or, with `check`, checkNetworkConfig) throws for `text`. */
function errorOf(text: string, check = false): FlannelConfigError {
  try {
    const c = parseNetConf(text, 'net-conf.json');
    if (check) checkNetworkConfig(c);
  } catch (e) {
    if (e instanceof FlannelConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe("net-conf.json as flannel's ParseConfig reads it", () => {
  it("kube-flannel's default: vxlan, VNI 1, kernel port, the interface MTU", () => {
    const c = parseNetConf(KUBE_FLANNEL_NET_CONF);
    expect(formatCidr(c.network)).toBe('10.244.0.0/16');
    expect(c.enableIPv4).toBe(true);
    expect(c.backendType).toBe('vxlan');
    expect(c.backend).toEqual({ type: 'vxlan', vni: 1, port: 0, mtu: null, learning: false, directRouting: false });
  });

  it('matches keys ignoring case, clears host bits of Network, reads every vxlan option', () => {
    const c = parseNetConf(
      '{"network":"10.1.2.3/16","subnetlen":26,"backend":{"type":"VXLAN","VNI":4096,"Port":4789,"MTU":9000,"DirectRouting":true,"Learning":true}}',
    );
    expect(formatCidr(c.network)).toBe('10.1.0.0/16');
    expect(c.subnetLen).toBe(26);
    expect(c.backendType).toBe('VXLAN');
    expect(c.backend).toEqual({ type: 'vxlan', vni: 4096, port: 4789, mtu: 9000, learning: true, directRouting: true });
  });

  it('host-gw has no options; a missing Backend means udp, which podwire does not run', () => {
    expect(parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw","MTU":"ignored"}}').backend).toEqual({
      type: 'host-gw',
    });
    const e = errorOf('{"Network": "10.244.0.0/16"}');
    expect(e.reason).toBe(
      'backend type "udp" is not supported by podwire (the vxlan and host-gw backends are modelled)',
    );
    expect([e.line, e.col]).toEqual([1, 1]);
  });

  it('an unknown backend type is the backend manager’s error, at Backend.Type', () => {
    const e = errorOf('{\n  "Network": "10.244.0.0/16",\n  "Backend": {\n    "Type": "Geneve"\n  }\n}');
    expect(e.reason).toBe('unknown backend type: geneve');
    expect([e.line, e.col]).toEqual([4, 13]);
    expect(e.message).toBe('net-conf.json:4:13: unknown backend type: geneve');
    expect(e.field).toBe('Backend.Type');
  });

  it.each([
    ['{"Network": "10.244.0.0"}', 'invalid CIDR address: 10.244.0.0', [1, 13]],
    ['{"Network": "10.244.0.0/33"}', 'invalid CIDR address: 10.244.0.0/33', [1, 13]],
    ['{"Network": 10}', 'invalid CIDR address: 10', [1, 13]],
    ['{"Network": "fd00::/64"}', 'invalid IPv4 CIDR format', [1, 13]],
    ['{"Network": null}', 'invalid CIDR address: null', [1, 13]],
    ['{"Network": "10.0.0.0/8", "SubnetMin": "10.1.0.0/16"}', 'invalid IP address format', [1, 40]],
    ['{"Network": "10.0.0.0/8", "SubnetMax": "fd00::1"}', 'invalid IPv4 address format', [1, 40]],
    [
      '{"Network": "10.0.0.0/8", "SubnetLen": "24"}',
      'json: cannot unmarshal string into Go struct field Config.SubnetLen of type uint',
      [1, 40],
    ],
    [
      '{"SubnetLen": -1, "Network": "10.0.0.0/8"}',
      'json: cannot unmarshal number -1 into Go struct field Config.SubnetLen of type uint',
      [1, 15],
    ],
    [
      '{"EnableIPv4": "yes", "Network": "x"}',
      // A custom UnmarshalJSON error stops decoding at once, before the saved type error is returned.
      'invalid CIDR address: x',
      [1, 34],
    ],
    [
      '{"EnableIPv4": 1, "Network": "10.0.0.0/8"}',
      'json: cannot unmarshal number into Go struct field Config.EnableIPv4 of type bool',
      [1, 16],
    ],
    ['[1]', 'json: cannot unmarshal array into Go value of type subnet.Config', [1, 1]],
    [
      '{"Network": "10.0.0.0/8", "Backend": "vxlan"}',
      'error decoding Backend property of config: json: cannot unmarshal string into Go value of type struct { Type string }',
      [1, 38],
    ],
    [
      '{"Network": "10.0.0.0/8", "Backend": {"Type": 1}}',
      'error decoding Backend property of config: json: cannot unmarshal number into Go struct field .Type of type string',
      [1, 47],
    ],
    [
      '{"Network": "10.0.0.0/8", "Backend": {"Type": "vxlan", "VNI": "1"}}',
      'error decoding VXLAN backend config: json: cannot unmarshal string into Go struct field VXLANConfig.vni of type int',
      [1, 63],
    ],
    [
      '{"Network": "10.0.0.0/8", "Backend": {"Type": "vxlan", "Port": 1.5}}',
      'error decoding VXLAN backend config: json: cannot unmarshal number 1.5 into Go struct field VXLANConfig.port of type int',
      [1, 64],
    ],
    [
      '{"Network": "10.0.0.0/8", "Backend": {"Type": "vxlan", "VNI": 16777216}}',
      'failed to create vxlan device: numerical result out of range',
      [1, 63],
    ],
    ['{"Network": "10.0.0.0/8",\n "Backend": {"Type": "vxlan"', 'unexpected end of JSON input', [2, 29]],
    ['{"Network": "10.0.0.0/8",}', "invalid character '}' looking for beginning of object key string", [1, 26]],
  ] as const)('%s → %s', (text, reason, [line, col]) => {
    const e = errorOf(text);
    expect(e.reason).toBe(reason);
    expect([e.line, e.col]).toEqual([line, col]);
  });

  it('refuses by name what podwire does not model', () => {
    expect(errorOf('{"Network":"10.0.0.0/8","EnableIPv6":true,"Backend":{"Type":"vxlan"}}').reason).toMatch(
      /^EnableIPv6 is not supported by podwire/,
    );
    expect(errorOf('{"Network":"10.0.0.0/8","EnableNFTables":true,"Backend":{"Type":"vxlan"}}').reason).toMatch(
      /^EnableNFTables is not supported by podwire/,
    );
    expect(errorOf('{"Network":"10.0.0.0/8","Backend":{"Type":"wireguard"}}').reason).toMatch(
      /^backend type "wireguard" is not supported by podwire/,
    );
    expect(errorOf('{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan","GBP":true}}').reason).toMatch(
      /^GBP is not supported by podwire/,
    );
  });
});

describe("CheckNetworkConfig's defaults and checks", () => {
  const vx = (extra: string) => `{${extra},"Backend":{"Type":"vxlan"}}`;
  const ip = (s: string) => parseIpv4(s)!;

  it('a /16 gets /24 subnets from the second one to the last', () => {
    const c = checkNetworkConfig(parseNetConf(vx('"Network":"10.244.0.0/16"')));
    expect(c.subnetLen).toBe(24);
    expect(formatIpv4(c.subnetMin)).toBe('10.244.1.0');
    expect(formatIpv4(c.subnetMax)).toBe('10.244.255.0');
  });

  it('a network smaller than /22 is split in four (length + 2)', () => {
    const c = checkNetworkConfig(parseNetConf(vx('"Network":"10.9.0.0/25"')));
    expect(c).toEqual({ subnetLen: 27, subnetMin: ip('10.9.0.32'), subnetMax: ip('10.9.0.96') });
  });

  it.each([
    ['"Backend0":1', 'please define a correct Network parameter in the flannel config'],
    ['"Network":"10.0.0.0/29"', 'network is too small. Minimum useful network prefix is /28'],
    ['"Network":"10.0.0.0/16","SubnetLen":31', 'SubnetLen must be less than /31'],
    ['"Network":"10.0.0.0/16","SubnetLen":17', 'network must be able to accommodate at least four subnets'],
    ['"Network":"10.0.0.0/16","SubnetMin":"10.1.0.0"', 'SubnetMin is not in the range of the Network'],
    ['"Network":"10.0.0.0/16","SubnetMax":"10.0.3.4"', 'SubnetMax is not on a SubnetLen boundary: 10.0.3.4'],
  ])('%s → %s', (members, reason) => {
    expect(errorOf(vx(members), true).reason).toBe(reason);
  });

  it('points at the field it is about', () => {
    const e = errorOf('{\n "Network": "10.0.0.0/16",\n "SubnetLen": 31,\n "Backend": {"Type": "host-gw"}\n}', true);
    expect([e.line, e.col, e.field]).toEqual([3, 15, 'SubnetLen']);
  });
});
