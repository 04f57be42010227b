import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  convertResult,
  decodeResult,
  encodeResult,
  errorObjectProblems,
  goMarshal,
  goMarshalIndent,
  printError,
  printResult,
  resultProblems,
  validateErrorObject,
  validateResult,
} from '../../src/cni/spec/index.js';
import { CniError, type CniVersion, type Result } from '../../src/cni/types.js';

const REAL = JSON.parse(readFileSync(new URL('../fixtures/cni/real-plugins.json', import.meta.url), 'utf8')) as {
  print040: string;
  print030: string;
  bridgeResult1: Record<string, unknown>;
};

/** The bridge plugin's result in SPEC.md 1.0.0's add example. */
const SPEC_RESULT_100 = {
  cniVersion: '1.0.0',
  ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'veth3243', mac: '55:44:33:22:11:11' },
    { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
  ],
  dns: { nameservers: ['10.1.0.1'] },
};

const VERSIONS: CniVersion[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'];

describe('result shapes and conversion', () => {
  it('the specification example is a valid 1.0.0 result and converts to each older version', () => {
    validateResult(SPEC_RESULT_100, '1.0.0');
    for (const v of ['0.3.0', '0.3.1', '0.4.0'] as const) {
      const old = convertResult(SPEC_RESULT_100, '1.0.0', v);
      expect(resultProblems(old, v)).toEqual([]);
      expect(old.cniVersion).toBe(v);
      expect(old.ips).toEqual([{ version: '4', interface: 2, address: '10.1.0.5/16', gateway: '10.1.0.1' }]);
      // 1.0.0 has no ips[].version: the older shape is refused there and vice versa.
      expect(resultProblems({ ...old, cniVersion: '1.0.0' }, '1.0.0')).toEqual([
        'ips[0].version: not a field of a 1.0.0 result (allowed: interface, address, gateway)',
      ]);
      const back = convertResult(old, v, '1.0.0');
      expect(back).toEqual(SPEC_RESULT_100);
    }
  });

  it('marks IPv6 addresses version "6" when converting down', () => {
    const r = { cniVersion: '1.0.0', ips: [{ address: 'fd00::5/64', gateway: 'fd00::1' }] };
    expect(convertResult(r, '1.0.0', '0.4.0').ips).toEqual([
      { version: '6', address: 'fd00::5/64', gateway: 'fd00::1' },
    ]);
  });

  it('prints 0.4.0 and 0.3.0 results byte for byte as the real plugins do', () => {
    for (const [text, v] of [
      [REAL.print040, '0.4.0'],
      [REAL.print030, '0.3.0'],
    ] as const) {
      const r = decodeResult(JSON.parse(text), v);
      expect(printResult(r, v)).toBe(text);
    }
  });

  it('prints 1.0.0 results as current libcni does: keys sorted, an empty dns left out', () => {
    const r = decodeResult(REAL.bridgeResult1, '1.0.0');
    const printed = printResult(r, '1.0.0');
    expect(JSON.parse(printed)).toEqual(REAL.bridgeResult1);
    const lines = printed.split('\n');
    expect(lines.slice(0, 4)).toEqual(['{', '    "cniVersion": "1.0.0",', '    "dns": {', '        "nameservers": [']);
    expect(printed).toContain(
      '"address": "10.1.0.2/16",\n            "gateway": "10.1.0.1",\n            "interface": 2\n',
    );
    const bare: Result = { cniVersion: '1.0.0', interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00' }] };
    expect(printResult(bare, '1.0.0')).toBe(
      '{\n    "cniVersion": "1.0.0",\n    "interfaces": [\n        {\n            "mac": "00:00:00:00:00:00",\n            "name": "lo"\n        }\n    ]\n}',
    );
    expect(printResult(bare, '0.4.0')).toBe(
      '{\n    "cniVersion": "0.4.0",\n    "interfaces": [\n        {\n            "name": "lo",\n            "mac": "00:00:00:00:00:00"\n        }\n    ],\n    "dns": {}\n}',
    );
  });

  it('drops fields later versions added (interface mtu) when writing a version', () => {
    const r: Result = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mtu: 1450 }] };
    for (const v of VERSIONS) expect(encodeResult(r, v).interfaces).toEqual([{ name: 'eth0' }]);
  });
});

describe('validateResult', () => {
  const base = (): Record<string, unknown> => structuredClone(SPEC_RESULT_100);
  it.each([
    [(r: Record<string, unknown>) => ({ ...r, cniVersion: '0.4.0' }), 'cniVersion: must be "1.0.0", found "0.4.0"'],
    [(r: Record<string, unknown>) => ({ ...r, extra: 1 }), 'extra: not a field of a 1.0.0 result'],
    [
      (r: Record<string, unknown>) => ({ ...r, ips: [{ address: '10.1.0.5' }] }),
      'ips[0].address: "10.1.0.5" is not an IP address in CIDR notation',
    ],
    [
      (r: Record<string, unknown>) => ({ ...r, ips: [{ address: '10.1.0.5/16', interface: 3 }] }),
      'ips[0].interface: is 3 but the result has 3 interfaces',
    ],
    [
      (r: Record<string, unknown>) => ({ ...r, ips: [{ address: '10.1.0.5/16', gateway: 'fd00::1' }] }),
      'ips[0].gateway: is IPv6 but the address is IPv4',
    ],
    [
      (r: Record<string, unknown>) => ({ ...r, routes: [{ dst: '0.0.0.0/0', mtu: 1400 }] }),
      'routes[0].mtu: not a field of a 1.0.0 result',
    ],
    [
      (r: Record<string, unknown>) => ({ ...r, interfaces: [{ name: 'eth0', mtu: 1500 }], ips: [] }),
      'interfaces[0].mtu: not a field',
    ],
    [
      (r: Record<string, unknown>) => ({ ...r, interfaces: [{ mac: 'zz' }], ips: [] }),
      'interfaces[0].name: must be a non-empty string',
    ],
    [
      (r: Record<string, unknown>) => ({ ...r, dns: { nameservers: ['dns.example'] } }),
      'dns.nameservers[0]: "dns.example" is not an IP address',
    ],
  ])('refuses a departure from the 1.0.0 shape (%#)', (mutate, problem) => {
    const problems = resultProblems(mutate(base()), '1.0.0');
    expect(problems.some((p) => p.startsWith(problem))).toBe(true);
    expect(() => validateResult(mutate(base()), '1.0.0')).toThrow(CniError);
  });

  it('wants version "4"/"6" matching the address in 0.x results', () => {
    const r = convertResult(SPEC_RESULT_100, '1.0.0', '0.3.1');
    const noVersion = structuredClone(r);
    delete (noVersion.ips as Record<string, unknown>[])[0]!.version;
    expect(resultProblems(noVersion, '0.3.1')).toEqual(['ips[0].version: must be "4" or "6"']);
    const wrong = structuredClone(r);
    (wrong.ips as Record<string, unknown>[])[0]!.version = '6';
    expect(resultProblems(wrong, '0.3.1')).toEqual(['ips[0].version: is "6" but the address is IPv4']);
  });

  it('accepts abbreviated IPAM results and refuses interface indexes without interfaces', () => {
    expect(
      resultProblems({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }] }, '1.0.0'),
    ).toEqual([]);
    expect(resultProblems({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/16', interface: 0 }] }, '1.0.0')).toEqual([
      'ips[0].interface: is 0 but the result has no interfaces',
    ]);
    expect(resultProblems({ cniVersion: '0.2.0', ip4: {} }, '0.2.0')).toEqual([
      '(result): version "0.2.0" is not one podwire supports',
    ]);
  });
});

describe('error objects', () => {
  it('print as SPEC.md shows them and validate per version', () => {
    const e = new CniError(7, 'Invalid Configuration', 'Network 192.168.0.0/31 too small to allocate from.');
    const text = printError(e, '1.0.0');
    expect(text).toBe(
      '{\n    "cniVersion": "1.0.0",\n    "code": 7,\n    "msg": "Invalid Configuration",\n    "details": "Network 192.168.0.0/31 too small to allocate from."\n}',
    );
    validateErrorObject(JSON.parse(text), '1.0.0');
    // Code 7 is defined from 1.0.0 on; 3 and 11 from 0.4.0; 1 and 2 always; 100+ belong to plugins.
    expect(errorObjectProblems(JSON.parse(printError(e, '0.4.0')), '0.4.0')).toEqual([
      'code: 7 is reserved and not defined by CNI 0.4.0',
    ]);
    expect(errorObjectProblems({ cniVersion: '0.3.1', code: 11, msg: 'x' }, '0.3.1')).toHaveLength(1);
    expect(errorObjectProblems({ cniVersion: '0.4.0', code: 11, msg: 'x' }, '0.4.0')).toEqual([]);
    expect(errorObjectProblems({ cniVersion: '0.3.0', code: 999, msg: 'x' }, '0.3.0')).toEqual([]);
    expect(errorObjectProblems({ code: 1, msg: 2 }, '1.0.0')).toEqual([
      'cniVersion: must be "1.0.0"',
      'msg: must be a string',
    ]);
  });
});

describe('Go JSON text', () => {
  it('escapes as encoding/json does and indents with MarshalIndent layout', () => {
    expect(goMarshal({ a: '<&>\u2028"\\\n\b', b: [1, 2.5, true, null], c: {} })).toBe(
      '{"a":"\\u003c\\u0026\\u003e\\u2028\\"\\\\\\n\\b","b":[1,2.5,true,null],"c":{}}',
    );
    expect(goMarshalIndent({ a: [], b: [{}] })).toBe('{\n    "a": [],\n    "b": [\n        {}\n    ]\n}');
    expect(goMarshal([1e21, 1e-7, 123456789])).toBe('[1e+21,1e-7,123456789]');
  });
});
