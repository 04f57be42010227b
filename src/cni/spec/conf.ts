// Network configurations as libcni loads them: `.conflist` files (NetworkConfFromBytes), single-plugin `.conf`
// files (ConfFromBytes) and their up-conversion to a one-plugin list (ConfListFromConf), and the choice a
// container runtime makes in /etc/cni/net.d (containerd's go-cni: `.conf`, `.conflist` and `.json` files sorted
// lexically, the first one is the pod network). Messages keep libcni's wording; every error is a CniConfError
// naming file, line, column and field.
//
// Checks beyond libcni, from the specification's text (SPEC.md 1.0.0 section 1, 0.4.0 "Network Configuration"):
// the network name's characters and a supported cniVersion are checked at load time (libcni leaves them to the
// plugin); `prevResult` and `runtimeConfig` in a file are refused because the runtime generates them (and so are
// `args` and `cni.dev/*` keys at 1.0.0, where they became reserved); a list key podwire does not know is refused
// with code 2 instead of being ignored. Plugin objects keep every other key, as the specification requires.
// Limits: 1.1.0 list keys (cniVersions, disableGC, loadOnlyInlinedPlugins) and plugins loaded from
// `<dir>/<network>/*.conf` are not supported.

import { CniError, type NetConf, type NetConfList, type NodeFs } from '../types.js';
import { type CniConfError, confErrorAt, decodeError } from './errors.js';
import { bytewise, goMarshal, sortKeysDeep } from './gojson.js';
import {
  cloneJson,
  isObject,
  type JsonDoc,
  type JsonObject,
  type JsonPath,
  JsonSyntaxError,
  type JsonValue,
  parseJson,
} from './json.js';
import { effectiveVersion, incompatibleVersion, isSupportedVersion } from './version.js';

/** A loaded network configuration list: the typed view, the JSON it came from and where each part sits. */
export interface NetworkConfigList {
  readonly list: NetConfList;
  /** The list object (for a converted `.conf`, the synthesised `{cniVersion, name, plugins: [conf]}`). */
  readonly raw: JsonObject;
  /** The bytes libcni keeps in its result cache (the file's text, or the converted list's JSON). */
  readonly bytes: string;
  readonly file: string;
  /** The parsed file, for positions. */
  readonly doc: JsonDoc;
  /** Where plugin `i` sits in `doc` (`['plugins', i]`, or the root for a converted `.conf`). */
  pluginPath(i: number): JsonPath;
}

export interface LoadedConf {
  readonly conf: NetConf;
  readonly raw: JsonObject;
  readonly bytes: string;
  readonly file: string;
  readonly doc: JsonDoc;
}

export const DEFAULT_CONF_DIR = '/etc/cni/net.d';
const NETNAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const LIST_KEYS = new Set(['cniVersion', 'name', 'disableCheck', 'plugins']);
const LIST_KEYS_110 = new Set(['cniVersions', 'disableGC', 'loadOnlyInlinedPlugins']);

/** Go's %T of a value decoded into interface{}. */
export function goTypeOf(v: JsonValue): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return 'map[string]interface {}';
  }
}

/** The JSON kind encoding/json names in an UnmarshalTypeError. */
function jsonKind(v: JsonValue): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

function parseDoc(text: string, file: string, prefix: string): JsonDoc {
  try {
    return parseJson(text, file);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw decodeError(e, prefix);
    throw e;
  }
}

/** ValidateNetworkName (libcni pkg/utils): code 7 for an empty name or characters outside [a-zA-Z0-9_.-]. */
export function checkNetworkName(doc: JsonDoc, path: JsonPath, name: string): void {
  if (name === '') throw confErrorAt(doc, path, 7, 'missing network name:');
  if (!NETNAME.test(name)) throw confErrorAt(doc, path, 7, 'invalid characters found in network name', name);
}

function checkVersion(doc: JsonDoc, path: JsonPath, v: string | undefined): void {
  if (isSupportedVersion(v)) return;
  const e = incompatibleVersion(effectiveVersion(v));
  throw confErrorAt(doc, path, e.code, e.message, v === undefined ? `cniVersion is missing; ${e.details}` : e.details);
}

/**
 * The typed fields of libcni's types.PluginConf, checked as json.Unmarshal checks them (null is always fine),
 * then the podwire checks on `type` and reserved keys.
 */
function checkPlugin(doc: JsonDoc, path: JsonPath, v: JsonValue, prefix: string, version: string | undefined): void {
  const typeErr = (p: JsonPath, value: JsonValue, goField: string, goType: string): CniConfError =>
    confErrorAt(
      doc,
      p,
      6,
      `${prefix}json: cannot unmarshal ${jsonKind(value)} into Go struct field PluginConf.${goField} of type ${goType}`,
    );
  if (!isObject(v))
    throw confErrorAt(
      doc,
      path,
      6,
      `${prefix}json: cannot unmarshal ${jsonKind(v)} into Go value of type types.PluginConf`,
    );
  const str = (key: string, goField = key): void => {
    const x = v[key];
    if (x !== undefined && x !== null && typeof x !== 'string') throw typeErr([...path, key], x, goField, 'string');
  };
  str('cniVersion');
  str('name');
  str('type');
  const caps = v.capabilities;
  if (caps !== undefined && caps !== null) {
    if (!isObject(caps)) throw typeErr([...path, 'capabilities'], caps, 'capabilities', 'map[string]bool');
    for (const [k, b] of Object.entries(caps))
      if (b !== null && typeof b !== 'boolean') throw typeErr([...path, 'capabilities', k], b, 'capabilities', 'bool');
  }
  const ipam = v.ipam;
  if (ipam !== undefined && ipam !== null) {
    if (!isObject(ipam)) throw typeErr([...path, 'ipam'], ipam, 'ipam', 'types.IPAM');
    const t = ipam.type;
    if (t !== undefined && t !== null && typeof t !== 'string')
      throw typeErr([...path, 'ipam', 'type'], t, 'ipam.type', 'string');
  }
  const dns = v.dns;
  if (dns !== undefined && dns !== null) {
    if (!isObject(dns)) throw typeErr([...path, 'dns'], dns, 'dns', 'types.DNS');
    for (const [k, x] of Object.entries(dns)) {
      const p = [...path, 'dns', k];
      if (k === 'domain') {
        if (x !== null && typeof x !== 'string') throw typeErr(p, x, 'dns.domain', 'string');
      } else if (k === 'nameservers' || k === 'search' || k === 'options') {
        if (x === null) continue;
        if (!Array.isArray(x)) throw typeErr(p, x, `dns.${k}`, '[]string');
        x.forEach((s, i) => {
          if (s !== null && typeof s !== 'string') throw typeErr([...p, i], s, `dns.${k}`, 'string');
        });
      } else
        throw confErrorAt(
          doc,
          p,
          2,
          `unsupported field "dns.${k}"`,
          'dns holds nameservers, domain, search and options',
          {
            key: true,
          },
        );
    }
  }
  const type = v.type;
  if (typeof type !== 'string' || type === '') throw confErrorAt(doc, [...path, 'type'], 7, `${prefix}missing 'type'`);
  if (type.includes('/') || type.includes('\\'))
    throw confErrorAt(doc, [...path, 'type'], 7, `invalid plugin name: ${type}`, 'a type names a plugin, not a path');
  const reserved = (key: string, why: string): void => {
    if (key in v)
      throw confErrorAt(doc, [...path, key], 7, `reserved key "${key}" in plugin configuration`, why, { key: true });
  };
  reserved('prevResult', 'the runtime inserts the previous result at execution time');
  reserved('runtimeConfig', 'the runtime derives runtimeConfig from capabilities at execution time');
  if (version === '1.0.0') {
    reserved('args', 'args is reserved for the runtime since CNI 1.0.0');
    for (const k of Object.keys(v))
      if (k.startsWith('cni.dev/')) reserved(k, 'keys starting with cni.dev/ are reserved for the protocol');
  }
}

function readBool(doc: JsonDoc, raw: JsonObject, key: string): boolean {
  const v = raw[key];
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string')
    throw confErrorAt(doc, [key], 7, `error parsing configuration list: invalid type ${goTypeOf(v)} for ${key}`);
  const s = v.toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw confErrorAt(doc, [key], 7, `error parsing configuration list: invalid value ${JSON.stringify(s)} for ${key}`);
}

/** Parses and validates a `.conflist` (libcni NetworkConfFromBytes plus the checks in the module comment). */
export function parseConfList(text: string, file = '<conflist>'): NetworkConfigList {
  const prefix = 'error parsing configuration list';
  const doc = parseDoc(text, file, prefix);
  const raw = doc.value;
  if (!isObject(raw))
    throw confErrorAt(
      doc,
      [],
      6,
      `${prefix}: json: cannot unmarshal ${jsonKind(raw)} into Go value of type map[string]interface {}`,
    );
  if (!('name' in raw)) throw confErrorAt(doc, [], 7, `${prefix}: no name`);
  const name = raw.name!;
  if (typeof name !== 'string') throw confErrorAt(doc, ['name'], 7, `${prefix}: invalid name type ${goTypeOf(name)}`);
  const ver = raw.cniVersion;
  if (ver !== undefined && typeof ver !== 'string')
    throw confErrorAt(doc, ['cniVersion'], 7, `${prefix}: invalid cniVersion type ${goTypeOf(ver)}`);
  for (const k of Object.keys(raw)) {
    if (LIST_KEYS.has(k)) continue;
    const value = goMarshal(raw[k]!);
    if (LIST_KEYS_110.has(k))
      throw confErrorAt(
        doc,
        [k],
        2,
        `unsupported field "${k}": ${value}`,
        `${k} is a CNI 1.1.0 key; podwire speaks up to 1.0.0`,
        {
          key: true,
        },
      );
    throw confErrorAt(
      doc,
      [k],
      2,
      `unsupported field "${k}": ${value}`,
      'a configuration list holds cniVersion, name, disableCheck and plugins; plugin settings go inside plugins',
      { key: true },
    );
  }
  const disableCheck = readBool(doc, raw, 'disableCheck');
  if (!('plugins' in raw)) throw confErrorAt(doc, [], 7, 'no plugin configs found', 'the list has no "plugins" key');
  const plugins = raw.plugins!;
  if (!Array.isArray(plugins))
    throw confErrorAt(doc, ['plugins'], 7, `${prefix}: invalid 'plugins' type ${goTypeOf(plugins)}`);
  if (plugins.length === 0) throw confErrorAt(doc, ['plugins'], 7, `${prefix}: no plugins in list`);
  plugins.forEach((p, i) => {
    checkPlugin(doc, ['plugins', i], p, `failed to parse plugin config ${i}: error parsing configuration: `, ver);
  });
  checkNetworkName(doc, ['name'], name);
  checkVersion(doc, ver === undefined ? [] : ['cniVersion'], ver);
  const list: NetConfList = {
    cniVersion: ver as string,
    name,
    ...(disableCheck ? { disableCheck } : {}),
    plugins: plugins.map((p) => cloneJson(p) as unknown as NetConf),
  };
  return { list, raw, bytes: text, file, doc, pluginPath: (i) => ['plugins', i] };
}

/** Parses and validates a single-plugin `.conf` (libcni ConfFromBytes plus name and version checks). */
export function parseConf(text: string, file = '<conf>'): LoadedConf {
  const doc = parseDoc(text, file, 'error parsing configuration');
  const raw = doc.value;
  if (!isObject(raw))
    throw confErrorAt(
      doc,
      [],
      6,
      `error parsing configuration: json: cannot unmarshal ${jsonKind(raw)} into Go value of type types.PluginConf`,
    );
  const ver = raw.cniVersion;
  checkPlugin(doc, [], raw, 'error parsing configuration: ', typeof ver === 'string' ? ver : undefined);
  const name = typeof raw.name === 'string' ? raw.name : '';
  checkNetworkName(doc, 'name' in raw ? ['name'] : [], name);
  checkVersion(doc, ver === undefined || ver === null ? [] : ['cniVersion'], typeof ver === 'string' ? ver : undefined);
  return { conf: cloneJson(raw) as unknown as NetConf, raw, bytes: text, file, doc };
}

/** libcni ConfListFromConf: the conf becomes the only plugin of a list carrying its name and version. */
export function confToList(c: LoadedConf): NetworkConfigList {
  const raw: JsonObject = { cniVersion: c.conf.cniVersion, name: c.conf.name, plugins: [cloneJson(c.raw)] };
  const list: NetConfList = {
    cniVersion: c.conf.cniVersion,
    name: c.conf.name,
    plugins: [cloneJson(c.raw) as unknown as NetConf],
  };
  // Go marshals the synthesised map with its keys sorted; that text is what libcni caches as the list's bytes.
  return { list, raw, bytes: goMarshal(sortKeysDeep(raw)), file: c.file, doc: c.doc, pluginPath: () => [] };
}

/** A `.conflist` by its extension or, for other names, by the presence of a `plugins` key. */
export function parseNetworkConfig(text: string, file = '<config>'): NetworkConfigList {
  if (file.endsWith('.conflist')) return parseConfList(text, file);
  if (file.endsWith('.conf') || file.endsWith('.json')) return confToList(parseConf(text, file));
  let isList = false;
  try {
    const v = parseJson(text, file).value;
    isList = isObject(v) && 'plugins' in v;
  } catch {
    isList = true; // let the list parser report the syntax error
  }
  return isList ? parseConfList(text, file) : confToList(parseConf(text, file));
}

/** A list built in code, validated exactly as a file would be. */
export function confListFromObject(list: NetConfList, file = '<conflist>'): NetworkConfigList {
  return parseConfList(JSON.stringify(list, null, 2), file);
}

/**
 * The pod network a container runtime picks from `dir`: the lexically first `.conf`, `.conflist` or `.json` file
 * (containerd go-cni loadFromConfDir with one network). An invalid first file is an error, as it is there.
 */
export function loadDefaultNetwork(fs: NodeFs, dir = DEFAULT_CONF_DIR): NetworkConfigList {
  const files = fs
    .list(dir)
    .filter((f) => f.endsWith('.conf') || f.endsWith('.conflist') || f.endsWith('.json'))
    .filter((f) => fs.read(`${dir}/${f}`) !== undefined)
    .sort(bytewise);
  const first = files[0];
  if (first === undefined) throw new CniError(7, `no network config found in ${dir}: cni plugin not initialized`);
  const path = `${dir}/${first}`;
  return parseNetworkConfig(fs.read(path)!, path);
}
