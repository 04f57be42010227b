import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import {
  CniConfError,
  confToList,
  formatCniArgs,
  loadArgs,
  loadDefaultNetwork,
  parseCniArgs,
  parseConf,
  parseConfList,
  parseJson,
  parseNetworkConfig,
} from '../../src/cni/spec/index.js';
import { JsonSyntaxError } from '../../src/cni/spec/json.js';
import type { CniError } from '../../src/cni/types.js';
import { DBNET } from './helpers.js';

function confError(f: () => unknown): CniConfError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniConfError);
    return e as CniConfError;
  }
  throw new Error('expected an error');
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function where(text: string, needle: string, nth = 0): { line: number; col: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  expect(at).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

describe('JSON with positions', () => {
  it('remembers where values and member names start', () => {
    const text = '{\n  "a": [1, {"b": "x"}],\n  "c": null\n}';
    const doc = parseJson(text, 'f.json');
    expect(doc.pos(['a', 1, 'b'])).toMatchObject(where(text, '"x"'));
    expect(doc.keyPos(['a', 1, 'b'])).toMatchObject(where(text, '"b"'));
    expect(doc.pos(['c'])).toMatchObject({ line: 3, col: 8 });
    expect(doc.pos(['zzz'])).toBeUndefined();
  });

  it.each([
    ['{"a": 1,}', "invalid character '}' looking for beginning of object key string", 1, 9],
    ['{"a" 1}', "invalid character '1' after object key", 1, 6],
    ['{"a": 1 "b": 2}', `invalid character '"' after object key:value pair`, 1, 9],
    ['[1 2]', "invalid character '2' after array element", 1, 4],
    ['{\n  // comment\n  "a": 1}', "invalid character '/' looking for beginning of object key string", 2, 3],
    ['{"a": tru}', "invalid character '}' in literal true (expecting 'e')", 1, 10],
    ['{"a": 01}', "invalid character '1' after object key:value pair", 1, 8],
    ['{"a": "x\ny"}', "invalid character '\\n' in string literal", 1, 9],
    ['{"a": 1} x', "invalid character 'x' after top-level value", 1, 10],
    ['{"a": [1, 2', 'unexpected end of JSON input', 1, 12],
  ])('reports %j as encoding/json does, at line:col', (text, reason, line, col) => {
    try {
      parseJson(text, 'x.conflist');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JsonSyntaxError);
      const je = e as JsonSyntaxError;
      expect(je.reason).toBe(reason);
      expect([je.line, je.col]).toEqual([line, col]);
    }
  });

  it('keeps the last of repeated keys and decodes escapes', () => {
    const v = parseJson('{"k": 1, "k": "\\u00e9\\n\\"", "__proto__": 3}').value as Record<string, unknown>;
    expect(v.k).toBe('é\n"');
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe(3);
  });
});

describe('configuration lists', () => {
  it('parses the specification example, keeping plugin-specific keys', () => {
    const net = parseConfList(DBNET, '/etc/cni/net.d/10-dbnet.conflist');
    expect(net.list.name).toBe('dbnet');
    expect(net.list.cniVersion).toBe('1.0.0');
    expect(net.list.plugins.map((p) => p.type)).toEqual(['bridge', 'tuning', 'portmap']);
    expect(net.list.plugins[0]!.keyA).toEqual(['some more', 'plugin specific', 'configuration']);
    expect(net.list.plugins[1]!.capabilities).toEqual({ mac: true });
    expect(net.bytes).toBe(DBNET);
    expect(net.doc.pos([...net.pluginPath(2), 'type'])).toMatchObject(where(DBNET, '"portmap"'));
  });

  it('names file, line, column and field of malformed JSON (code 6)', () => {
    const text = DBNET.replace('"bridge": "cni0",', '"bridge": "cni0"');
    const e = confError(() => parseConfList(text, '10-dbnet.conflist'));
    expect(e.code).toBe(6);
    expect(e.message).toBe(`error parsing configuration list: invalid character '"' after object key:value pair`);
    const at = where(text, '"keyA"');
    expect([e.file, e.line, e.col]).toEqual(['10-dbnet.conflist', at.line, at.col]);
    expect([at.line, at.col]).toEqual([8, 7]);
    expect(e.details).toBe('10-dbnet.conflist:8:7');
    expect(e.toObject('1.0.0')).toEqual({
      cniVersion: '1.0.0',
      code: 6,
      msg: e.message,
      details: '10-dbnet.conflist:8:7',
    });
  });

  it('refuses a version it does not speak with the specification error (code 1)', () => {
    const text = DBNET.replace('"1.0.0"', '"0.2.5"');
    const e = confError(() => parseConfList(text, 'n.conflist'));
    expect(e.code).toBe(1);
    expect(e.message).toBe('incompatible CNI versions');
    expect(e.field).toBe('cniVersion');
    expect([e.line, e.col]).toEqual([2, 17]);
    expect(e.details).toBe(
      'n.conflist:2:17: field "cniVersion": config is "0.2.5", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0"]',
    );
    const none = confError(() => parseConfList('{"name": "n", "plugins": [{"type": "x"}]}'));
    expect(none.code).toBe(1);
    expect(none.explanation).toContain('cniVersion is missing');
    for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0'])
      expect(parseConfList(DBNET.replace('"1.0.0"', `"${v}"`)).list.cniVersion).toBe(v);
  });

  it('reports a field of the wrong type where it is, in encoding/json words (code 6)', () => {
    const text = DBNET.replace('"mac": true', '"mac": "yes"');
    const e = confError(() => parseConfList(text, 'n.conflist'));
    expect(e.code).toBe(6);
    expect(e.field).toBe('plugins[1].capabilities.mac');
    expect([e.line, e.col]).toEqual([where(text, '"yes"').line, where(text, '"yes"').col]);
    expect(e.message).toBe(
      'failed to parse plugin config 1: error parsing configuration: json: cannot unmarshal string into Go struct field PluginConf.capabilities of type bool',
    );
    const ipam = confError(() => parseConfList(DBNET.replace('"type": "host-local"', '"type": 7')));
    expect(ipam.field).toBe('plugins[0].ipam.type');
    expect(ipam.message).toContain('cannot unmarshal number into Go struct field PluginConf.ipam.type of type string');
  });

  it('wants a type in every plugin (code 7) and a valid network name', () => {
    const text = DBNET.replace('"type": "tuning",', '');
    const e = confError(() => parseConfList(text, 'n.conflist'));
    expect(e.code).toBe(7);
    expect(e.message).toBe("failed to parse plugin config 1: error parsing configuration: missing 'type'");
    expect(e.field).toBe('plugins[1].type');
    const name = confError(() => parseConfList(DBNET.replace('"dbnet"', '"db net"')));
    expect([name.code, name.message, name.field]).toEqual([7, 'invalid characters found in network name', 'name']);
    expect(name.explanation).toBe('db net');
    const noName = confError(() => parseConfList('{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}'));
    expect(noName.message).toBe('error parsing configuration list: no name');
    const path = confError(() => parseConfList(DBNET.replace('"portmap"', '"../bin/portmap"')));
    expect(path.message).toBe('invalid plugin name: ../bin/portmap');
  });

  it('refuses list keys it does not know instead of ignoring them (code 2)', () => {
    const text = DBNET.replace('"name": "dbnet",', '"name": "dbnet",\n  "ipMasq": true,');
    const e = confError(() => parseConfList(text, 'n.conflist'));
    expect(e.code).toBe(2);
    expect(e.message).toBe('unsupported field "ipMasq": true');
    expect([e.line, e.col]).toEqual([4, 3]);
    const gc = confError(() => parseConfList(DBNET.replace('"name": "dbnet",', '"name": "dbnet", "disableGC": true,')));
    expect(gc.explanation).toContain('1.1.0');
  });

  it('reads disableCheck as libcni does (a boolean or "true"/"false" in any case)', () => {
    const withCheck = (v: string) => DBNET.replace('"name": "dbnet",', `"name": "dbnet", "disableCheck": ${v},`);
    expect(parseConfList(withCheck('true')).list.disableCheck).toBe(true);
    expect(parseConfList(withCheck('"TRUE"')).list.disableCheck).toBe(true);
    expect(parseConfList(withCheck('"false"')).list.disableCheck).toBeUndefined();
    expect(confError(() => parseConfList(withCheck('"yes"'))).message).toBe(
      'error parsing configuration list: invalid value "yes" for disableCheck',
    );
    expect(confError(() => parseConfList(withCheck('1'))).message).toBe(
      'error parsing configuration list: invalid type float64 for disableCheck',
    );
  });

  it('refuses keys the runtime generates; args is reserved only from 1.0.0 on', () => {
    const withArgs = DBNET.replace('"bridge": "cni0",', '"bridge": "cni0", "args": {"labels": {"a": "b"}},');
    const e = confError(() => parseConfList(withArgs));
    expect([e.code, e.field]).toEqual([7, 'plugins[0].args']);
    expect(parseConfList(withArgs.replace('"1.0.0"', '"0.4.0"')).list.plugins[0]!.args).toEqual({ labels: { a: 'b' } });
    const rc = confError(() =>
      parseConfList(DBNET.replace('"bridge": "cni0",', '"bridge": "cni0", "runtimeConfig": {},')),
    );
    expect(rc.message).toBe('reserved key "runtimeConfig" in plugin configuration');
    const plugins = confError(() => parseConfList('{"cniVersion":"1.0.0","name":"n","plugins":[]}'));
    expect(plugins.message).toBe('error parsing configuration list: no plugins in list');
    const notList = confError(() => parseConfList('{"cniVersion":"1.0.0","name":"n","plugins":{}}'));
    expect(notList.message).toBe("error parsing configuration list: invalid 'plugins' type map[string]interface {}");
  });
});

describe('.conf files', () => {
  const CONF = '{"cniVersion": "0.4.0", "name": "mynet", "type": "bridge", "bridge": "cni0", "isGateway": true}';

  it('become a one-plugin list the way libcni converts them', () => {
    const net = confToList(parseConf(CONF, '10-mynet.conf'));
    expect(net.list).toEqual({
      cniVersion: '0.4.0',
      name: 'mynet',
      plugins: [{ cniVersion: '0.4.0', name: 'mynet', type: 'bridge', bridge: 'cni0', isGateway: true }],
    });
    // Go marshals the synthesised map: keys sorted at every level.
    expect(net.bytes).toBe(
      '{"cniVersion":"0.4.0","name":"mynet","plugins":[{"bridge":"cni0","cniVersion":"0.4.0","isGateway":true,"name":"mynet","type":"bridge"}]}',
    );
    expect(parseNetworkConfig(CONF, 'x.json').list.plugins).toHaveLength(1);
    expect(parseNetworkConfig(DBNET, 'no-extension').list.plugins).toHaveLength(3);
  });

  it('need a type; errors point into the .conf', () => {
    const e = confError(() => parseConf('{"cniVersion": "0.4.0",\n "name": "n"}', 'a.conf'));
    expect([e.code, e.message, e.line, e.col]).toEqual([7, "error parsing configuration: missing 'type'", 1, 1]);
  });
});

describe('choosing the pod network in /etc/cni/net.d', () => {
  it('takes the lexically first .conf, .conflist or .json file', () => {
    const fs = new MemFs();
    fs.write('/etc/cni/net.d/99-last.conflist', DBNET.replace('"dbnet"', '"last"'));
    fs.write('/etc/cni/net.d/10-first.conf', '{"cniVersion":"0.3.1","name":"first","type":"bridge"}');
    fs.write('/etc/cni/net.d/05-notes.txt', 'not a configuration');
    fs.write('/etc/cni/net.d/00-old.conf.bak', '{');
    expect(loadDefaultNetwork(fs).list.name).toBe('first');
    fs.write('/etc/cni/net.d/01-flannel.conflist', DBNET.replace('"dbnet"', '"cbr0"'));
    const net = loadDefaultNetwork(fs);
    expect([net.list.name, net.file]).toEqual(['cbr0', '/etc/cni/net.d/01-flannel.conflist']);
  });

  it('fails clearly when the directory has no configuration, or the first one is broken', () => {
    const fs = new MemFs();
    expect(() => loadDefaultNetwork(fs)).toThrow('no network config found in /etc/cni/net.d');
    fs.write('/etc/cni/net.d/00-broken.conflist', '{"name": ');
    const e = confError(() => loadDefaultNetwork(fs));
    expect(e.file).toBe('/etc/cni/net.d/00-broken.conflist');
  });
});

describe('CNI_ARGS', () => {
  it('splits pairs, keeps their order and refuses a pair without one "="', () => {
    const a = parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IP=10.1.0.9');
    expect(Object.keys(a)).toEqual(['IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'IP']);
    expect(a.K8S_POD_NAME).toBe('web-0');
    expect(formatCniArgs(a)).toBe('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IP=10.1.0.9');
    expect(parseCniArgs('')).toEqual({});
    try {
      parseCniArgs('A=1;B');
      expect.unreachable();
    } catch (e) {
      expect([(e as CniError).code, (e as CniError).message]).toEqual([4, 'ARGS: invalid pair "B"']);
    }
    expect(() => parseCniArgs('A=1=2')).toThrow('ARGS: invalid pair "A=1=2"');
  });

  it('lets a plugin read its keys, refusing unknown ones unless IgnoreUnknown is set', () => {
    expect(loadArgs(parseCniArgs('IP=10.1.0.9;IgnoreUnknown=true;X=1'), ['IP'])).toEqual({ IP: '10.1.0.9' });
    expect(() => loadArgs(parseCniArgs('IP=10.1.0.9;X=1;Y=2'), ['IP'])).toThrow('ARGS: unknown args ["X=1" "Y=2"]');
    expect(() => loadArgs(parseCniArgs('IgnoreUnknown=maybe'), [])).toThrow('boolean unmarshal error');
  });
});
