// host-local configuration: parsing of `ranges`, the legacy single range, runtimeConfig.ipRanges, requested
// addresses from CNI_ARGS / args.cni.ips / runtimeConfig.ips, range defaults, and validation with the reference's
// messages. Each case names the reference test (containernetworking/plugins host-local allocator/config_test.go,
// range_test.go, range_set_test.go) whose behaviour it checks; the cases and addresses are our own.

import { describe, expect, it } from 'vitest';
import { loadIpamConfig } from '../../src/cni/ipam/host-local/config.js';
import {
  canonicalizeRange,
  type Range,
  rangeFor,
  rangeSetString,
  rangesOverlap,
} from '../../src/cni/ipam/host-local/range.js';
import type { NetConf } from '../../src/cni/types.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/addr.js';
import { addError, mkConf } from './host-local-harness.js';

const ip = (s: string) => parseIpv4(s)!;

/** A range in text form for readable expectations. */
function text(r: Range): { subnet: string; start: string; end: string; gw: string } {
  return {
    subnet: `${formatIpv4(r.subnet)}/${r.prefixLen}`,
    start: formatIpv4(r.rangeStart),
    end: formatIpv4(r.rangeEnd),
    gw: formatIpv4(r.gateway),
  };
}

function load(conf: NetConf, env: Record<string, string> = {}) {
  return loadIpamConfig(conf, env);
}

function loadError(conf: NetConf, env: Record<string, string> = {}): string {
  try {
    load(conf, env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('config accepted');
}

describe('host-local config: forms', () => {
  // config_test "Should parse an old-style config"
  it('reads the legacy single range written directly in ipam', () => {
    const c = load(
      mkConf({ subnet: '10.20.0.0/24', rangeStart: '10.20.0.9', rangeEnd: '10.20.0.20', gateway: '10.20.0.30' }),
    );
    expect(c.name).toBe('cbr0');
    expect(c.type).toBe('host-local');
    expect(c.ranges.map((s) => s.map(text))).toEqual([
      [{ subnet: '10.20.0.0/24', start: '10.20.0.9', end: '10.20.0.20', gw: '10.20.0.30' }],
    ]);
  });

  // config_test "Should parse a new-style config": defaults fill only the missing fields of each range
  it('reads range sets, each a list of ranges, filling defaults per range', () => {
    const c = load(
      mkConf({
        ranges: [
          [
            { subnet: '10.30.1.0/24', rangeStart: '10.30.1.5', rangeEnd: '10.30.1.6', gateway: '10.30.1.254' },
            { subnet: '10.30.7.0/24' },
          ],
          [{ subnet: '172.20.0.0/23' }],
        ],
      }),
    );
    expect(c.ranges.map((s) => s.map(text))).toEqual([
      [
        { subnet: '10.30.1.0/24', start: '10.30.1.5', end: '10.30.1.6', gw: '10.30.1.254' },
        { subnet: '10.30.7.0/24', start: '10.30.7.1', end: '10.30.7.254', gw: '10.30.7.1' },
      ],
      [{ subnet: '172.20.0.0/23', start: '172.20.0.1', end: '172.20.1.254', gw: '172.20.0.1' }],
    ]);
  });

  // config_test "Should parse a mixed config with runtime args": runtimeConfig.ipRanges first, then legacy, then ranges
  it('orders runtime ranges, then the legacy range, then ranges', () => {
    const c = load(
      mkConf(
        { subnet: '10.1.0.0/24', ranges: [[{ subnet: '10.3.0.0/24' }]] },
        { runtimeConfig: { other: 'x', ipRanges: [[{ subnet: '10.2.0.0/24' }]] } },
      ),
    );
    expect(c.ranges.map((s) => text(s[0]!).subnet)).toEqual(['10.2.0.0/24', '10.1.0.0/24', '10.3.0.0/24']);
  });

  it('matches keys case-insensitively, as encoding/json does', () => {
    const c = load(mkConf({ Subnet: '10.9.0.0/30', RANGEEND: '10.9.0.1' }));
    expect(c.ranges[0]!.map(text)).toEqual([
      { subnet: '10.9.0.0/30', start: '10.9.0.1', end: '10.9.0.1', gw: '10.9.0.1' },
    ]);
  });

  it('takes dataDir, resolvConf and routes as given', () => {
    const c = load(
      mkConf({
        subnet: '10.1.0.0/24',
        dataDir: '/run/ipam',
        resolvConf: '/etc/resolv.conf',
        routes: [{ dst: '0.0.0.0/0' }, { dst: '10.96.0.5/12', gw: '10.1.0.1', mtu: 1400, priority: 0 }],
      }),
    );
    expect(c.dataDir).toBe('/run/ipam');
    expect(c.resolvConf).toBe('/etc/resolv.conf');
    // Host bits of a route's dst are kept, as types.Route keeps them; zero mtu/priority are omitted.
    expect(c.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '10.96.0.5/12', gw: '10.1.0.1', mtu: 1400 }]);
  });
});

describe('host-local config: requested addresses', () => {
  const base = { ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }]] };

  // config_test "Should parse CNI_ARGS env" without / with prefix
  it.each([
    ['10.1.2.10', '10.1.2.10'],
    ['10.1.2.11/24', '10.1.2.11'],
  ])('CNI_ARGS IP=%s', (arg, want) => {
    expect(load(mkConf(base), { IP: arg }).ipArgs.map(formatIpv4)).toEqual([want]);
  });

  // config_test "Should parse config args": CNI_ARGS first, then args.cni.ips; then runtimeConfig.ips
  // ("Should parse custom IPs from runtime configuration")
  it('collects CNI_ARGS, args.cni.ips and runtimeConfig.ips in that order', () => {
    const conf = mkConf(base, {
      args: { cni: { ips: ['10.1.2.11/24', '10.1.3.12'] } },
      runtimeConfig: { ips: ['10.1.2.13'] },
    });
    expect(load(conf, { IP: '10.1.2.10', IgnoreUnknown: '1' }).ipArgs.map(formatIpv4)).toEqual([
      '10.1.2.10',
      '10.1.2.11',
      '10.1.3.12',
      '10.1.2.13',
    ]);
  });

  // types.LoadArgs: unknown keys are refused unless IgnoreUnknown is true (container runtimes always set it)
  it.each<[Record<string, string>, string | null]>([
    [{ K8S_POD_NAME: 'web', IP: '10.1.2.5' }, 'ARGS: unknown args ["K8S_POD_NAME=web"]'],
    [{ IgnoreUnknown: '1', K8S_POD_NAME: 'web', K8S_POD_NAMESPACE: 'default' }, null],
    [{ IgnoreUnknown: 'true', K8S_POD_NAME: 'web' }, null],
    [{ IgnoreUnknown: '0', K8S_POD_NAME: 'web' }, 'ARGS: unknown args ["K8S_POD_NAME=web"]'],
    [
      { IgnoreUnknown: 'yes' },
      'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes',
    ],
    [{ IP: 'bad' }, 'ARGS: error parsing value of pair "IP=bad": invalid IP address bad'],
    [{ IP: '' }, null],
  ])('CNI_ARGS %j', (env, err) => {
    if (err === null) expect(load(mkConf(base), env).ipArgs).toEqual([]);
    else expect(loadError(mkConf(base), env)).toBe(err);
  });

  it('refuses an unparsable requested address', () => {
    expect(loadError(mkConf(base, { runtimeConfig: { ips: ['zz'] } }))).toBe('invalid IP address zz');
    expect(loadError(mkConf(base, { args: { cni: { ips: [5] } } }))).toBe(
      'json: cannot unmarshal number into Go struct field IPAMArgs.args.cni.ips of type *ip.IP',
    );
  });

  it('refuses a requested IPv6 address', () => {
    expect(loadError(mkConf(base, { args: { cni: { ips: ['2001:db8:1::11'] } } }))).toBe(
      'cannot understand ip: IPv6 is not supported by podwire (2001:db8:1::11)',
    );
  });
});

describe('host-local config: range defaults and validation', () => {
  // range_test "should generate sane defaults for ipv4 with a clean prefix" / "for a smaller ipv4 subnet"
  it.each([
    ['198.51.100.0/24', '198.51.100.1', '198.51.100.254'],
    ['198.51.100.128/25', '198.51.100.129', '198.51.100.254'],
    ['10.244.0.0/16', '10.244.0.1', '10.244.255.254'],
    // The smallest network the reference accepts: one address besides the gateway.
    ['10.0.0.8/30', '10.0.0.9', '10.0.0.10'],
  ])('%s → start %s, end %s, gateway = start', (subnet, start, end) => {
    const r = text(load(mkConf({ subnet })).ranges[0]![0]!);
    expect(r).toEqual({ subnet, start, end, gw: start });
  });

  // range_test "Should reject a network that's too small" (/31), and /32 by the same rule; the message keeps the
  // address as written
  it.each([
    ['192.0.2.0/31', 'invalid range set 0: Network 192.0.2.0/31 too small to allocate from'],
    ['192.0.2.7/32', 'invalid range set 0: Network 192.0.2.7/32 too small to allocate from'],
    ['192.0.2.9/31', 'invalid range set 0: Network 192.0.2.9/31 too small to allocate from'],
  ])('refuses %s', (subnet, err) => {
    expect(loadError(mkConf({ subnet }))).toBe(err);
  });

  // range_test "should reject ipv4 subnet using a masked address" / "network with host bit set";
  // "should reject invalid RangeStart and RangeEnd specifications"
  it.each<[Record<string, unknown>, string]>([
    [
      { subnet: '203.0.113.12/24' },
      'Network has host bits set. For a subnet mask of length 24 the network address is 203.0.113.0',
    ],
    [
      { subnet: '172.16.127.0/23' },
      'Network has host bits set. For a subnet mask of length 23 the network address is 172.16.126.0',
    ],
    [{ subnet: '203.0.113.0/24', rangeStart: '203.0.114.0' }, 'RangeStart 203.0.114.0 not in network 203.0.113.0/24'],
    [{ subnet: '203.0.113.0/24', rangeEnd: '203.0.115.0' }, 'RangeEnd 203.0.115.0 not in network 203.0.113.0/24'],
    // start after end reads as "start not in network", because the start is checked against the configured end
    [
      { subnet: '203.0.113.0/24', rangeStart: '203.0.113.50', rangeEnd: '203.0.113.40' },
      'RangeStart 203.0.113.50 not in network 203.0.113.0/24',
    ],
    // podwire refuses ranges that would hand out the network or broadcast address (the reference allows them)
    [
      { subnet: '203.0.113.0/24', rangeStart: '203.0.113.0' },
      'RangeStart 203.0.113.0 is the network address of 203.0.113.0/24; podwire does not allocate it',
    ],
    [
      { subnet: '203.0.113.0/24', rangeEnd: '203.0.113.255' },
      'RangeEnd 203.0.113.255 is the broadcast address of 203.0.113.0/24; podwire does not allocate it',
    ],
    [{ subnet: '2001:db8:1::/64' }, 'IPv6 is not supported by podwire (subnet 2001:db8:1::/64)'],
    [{ subnet: '203.0.113.0/24', gateway: '2001:db8::1' }, 'IPv6 is not supported by podwire (gateway 2001:db8::1)'],
  ])('%j → %s', (ipam, err) => {
    expect(loadError(mkConf({ ranges: [[ipam]] }))).toBe(`invalid range set 0: ${err}`);
  });

  // range_test "should parse all fields correctly" and "should accept v4 IPs in range and reject IPs out of range"
  it('keeps explicit fields and contains exactly [rangeStart, rangeEnd]', () => {
    const set = load(
      mkConf({ subnet: '192.0.2.0/24', rangeStart: '192.0.2.40', rangeEnd: '192.0.2.50', gateway: '192.0.2.254' }),
    ).ranges[0]!;
    expect(text(set[0]!)).toEqual({
      subnet: '192.0.2.0/24',
      start: '192.0.2.40',
      end: '192.0.2.50',
      gw: '192.0.2.254',
    });
    const inside = ['192.0.3.0', '192.0.2.39', '192.0.2.40', '192.0.2.50', '192.0.2.51'].map(
      (a) => rangeFor(set, ip(a)) !== undefined,
    );
    expect(inside).toEqual([false, false, true, true, false]);
  });

  // range_set_test "should detect set membership correctly"
  it('finds the range of an address and prints a set as start-end pairs', () => {
    const set = load(mkConf({ ranges: [[{ subnet: '192.168.0.0/24' }, { subnet: '172.16.1.0/24' }]] })).ranges[0]!;
    expect(rangeFor(set, ip('172.16.1.55'))).toBe(set[1]);
    expect(rangeFor(set, ip('192.168.99.99'))).toBeUndefined();
    expect(rangeSetString(set)).toBe('192.168.0.1-192.168.0.254,172.16.1.1-172.16.1.254');
  });

  // range_test "Detecting overlap" (the operation is commutative)
  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean]>([
    ['non-overlapping', { subnet: '10.0.0.0/24' }, { subnet: '10.0.1.0/24' }, false],
    ['identical', { subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/24' }, true],
    ['containing', { subnet: '10.0.0.0/20' }, { subnet: '10.0.1.0/24' }, true],
    [
      'same subnet, disjoint',
      { subnet: '10.0.0.0/24', rangeEnd: '10.0.0.127' },
      { subnet: '10.0.0.0/24', rangeStart: '10.0.0.128' },
      false,
    ],
    [
      'same subnet, touching',
      { subnet: '10.0.0.0/24', rangeEnd: '10.0.0.127' },
      { subnet: '10.0.0.0/24', rangeStart: '10.0.0.127' },
      true,
    ],
  ])('overlap: %s', (_name, a, b, want) => {
    const spec = (o: Record<string, unknown>) => load(mkConf(o)).ranges[0]![0]!;
    expect(rangesOverlap(spec(a), spec(b))).toBe(want);
    expect(rangesOverlap(spec(b), spec(a))).toBe(want);
  });

  // config_test "Should detect overlap within rangeset" / range_set_test "should discover overlaps within a set"
  it('refuses overlapping ranges inside one set', () => {
    expect(loadError(mkConf({ ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '10.1.2.0/24' }]] }))).toBe(
      'invalid range set 0: subnets 10.1.0.1-10.1.3.254 and 10.1.2.1-10.1.2.254 overlap',
    );
  });

  // config_test "Should detect overlap between rangesets"
  it('refuses overlapping range sets, naming the first pair', () => {
    const ranges = [
      [{ subnet: '10.1.2.0/24' }, { subnet: '10.2.2.0/24' }],
      [{ subnet: '10.1.4.0/24' }, { subnet: '10.1.6.0/24' }, { subnet: '10.2.2.0/25' }],
      [{ subnet: '10.1.2.128/25' }],
    ];
    expect(loadError(mkConf({ ranges }))).toBe('range set 0 overlaps with 1');
    expect(loadError(mkConf({ ranges: [ranges[0]!, ranges[2]!] }))).toBe('range set 0 overlaps with 1');
    expect(loadError(mkConf({ ranges: [[{ subnet: '10.9.0.0/24' }], ranges[1]!, ranges[0]!] }))).toBe(
      'range set 1 overlaps with 2',
    );
  });

  // config_test "Should should error on too many ranges" (more than one address per family before 0.3.0)
  it('refuses two IPv4 range sets for a pre-0.3.0 configuration', () => {
    const ranges = [[{ subnet: '10.1.2.0/24' }], [{ subnet: '11.1.2.0/24' }]];
    expect(loadError({ ...mkConf({ ranges }), cniVersion: '0.2.0' })).toBe(
      'CNI version 0.2.0 does not support more than 1 address per family',
    );
    expect(load({ ...mkConf({ ranges: [ranges[0]] }), cniVersion: '0.2.0' }).ranges).toHaveLength(1);
    expect(load({ ...mkConf({ ranges }), cniVersion: '0.3.0' }).ranges).toHaveLength(2);
  });

  it('refuses a range with no subnet, an empty set, and a configuration without ranges', () => {
    expect(loadError(mkConf({ ranges: [[{ rangeStart: '10.1.0.5' }]] }))).toBe(
      'invalid range set 0: IP <nil> not v4 nor v6',
    );
    expect(loadError(mkConf({ ranges: [[]] }))).toBe('invalid range set 0: empty range set');
    // Without a subnet the legacy fields are no range at all.
    expect(loadError(mkConf({ rangeStart: '10.1.0.5' }))).toBe('no IP ranges specified');
    expect(loadError({ cniVersion: '1.0.0', name: 'n', type: 'bridge' })).toBe("IPAM config missing 'ipam' key");
  });

  it('reports bad values as encoding/json and net.ParseIP/ParseCIDR do', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ subnet: '10.0.0/24' }, 'invalid CIDR address: 10.0.0/24'],
      [{ subnet: '' }, 'invalid CIDR address: '],
      [{ subnet: '10.0.0.0/24', gateway: 'x' }, 'invalid IP address: x'],
      [{ subnet: 5 }, 'json: cannot unmarshal number into Go struct field IPAMConfig.ipam.subnet of type string'],
      [
        { subnet: '10.0.0.0/24', gateway: 5 },
        'json: cannot unmarshal number into Go struct field IPAMConfig.ipam.gateway of type net.IP',
      ],
      [
        { ranges: 'x' },
        'json: cannot unmarshal string into Go struct field IPAMConfig.ipam.ranges of type []allocator.RangeSet',
      ],
      [
        { ranges: [{ subnet: '10.0.0.0/24' }] },
        'json: cannot unmarshal object into Go struct field IPAMConfig.ipam.ranges of type allocator.RangeSet',
      ],
      [
        { ranges: [['x']] },
        'json: cannot unmarshal string into Go struct field IPAMConfig.ipam.ranges of type allocator.Range',
      ],
      [
        { ranges: [[{ subnet: 5 }]] },
        'json: cannot unmarshal number into Go struct field Range.ipam.ranges.subnet of type string',
      ],
      [
        { subnet: '10.0.0.0/24', dataDir: 5 },
        'json: cannot unmarshal number into Go struct field IPAMConfig.ipam.dataDir of type string',
      ],
      [
        { subnet: '10.0.0.0/24', routes: 'x' },
        'json: cannot unmarshal string into Go struct field IPAMConfig.ipam.routes of type []*types.Route',
      ],
      [{ subnet: '10.0.0.0/24', routes: [{ dst: '1.0.0.0/8', gw: 'zz' }] }, 'invalid IP address: zz'],
      [{ subnet: '10.0.0.0/24', routes: [{ gw: '1.1.1.1' }] }, 'invalid route 0: dst is required'],
      [{ subnet: '10.0.0.0/24', routes: [{ dst: '::/0' }] }, 'IPv6 is not supported by podwire (route dst ::/0)'],
    ];
    for (const [ipam, err] of cases) expect(loadError(mkConf(ipam)), JSON.stringify(ipam)).toBe(err);
  });

  it('treats null and an empty IP string as absent', () => {
    const r = text(load(mkConf({ subnet: '10.0.0.0/24', rangeStart: '', gateway: null })).ranges[0]![0]!);
    expect(r).toEqual({ subnet: '10.0.0.0/24', start: '10.0.0.1', end: '10.0.0.254', gw: '10.0.0.1' });
  });

  it('surfaces configuration errors from ADD with code 999', () => {
    expect(addError(mkConf({ subnet: '10.0.0.0/31' }))).toBe(
      'invalid range set 0: Network 10.0.0.0/31 too small to allocate from',
    );
  });

  it('canonicalizes a lone range the same way the loader does', () => {
    const r = canonicalizeRange({ subnet: { v4: { addr: ip('10.5.0.0'), len: 29 } } });
    expect(text(r)).toEqual({ subnet: '10.5.0.0/29', start: '10.5.0.1', end: '10.5.0.6', gw: '10.5.0.1' });
  });
});
