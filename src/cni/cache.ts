// libcni's result cache: after a successful ADD the runtime stores the final result, the list's bytes and the
// attachment parameters in /var/lib/cni/results/<network>-<containerID>-<ifname> (cachedInfo, kind "cniCacheV1",
// written with json.Marshal: compact, `config` as base64, the result with its keys sorted). DEL and CHECK read the
// result back, converted to the list's version, as the prevResult they pass. A file that is not a cniCacheV1
// record is read as a bare result, as libcni reads caches of its older releases.

import { goMarshal, sortKeysDeep } from './spec/gojson.js';
import { isObject, type JsonObject, type JsonValue, parseJson } from './spec/json.js';
import { asSeenBy, decodeResult, encodeResult } from './spec/result.js';
import { isSupportedVersion } from './spec/version.js';
import { CniError, type CniVersion, type NodeFs, type Result } from './types.js';

export const CNI_CACHE_DIR = '/var/lib/cni';
const KIND = 'cniCacheV1';

export interface CacheKey {
  containerId: string;
  ifName: string;
}

export interface CachedAttachment {
  containerId: string;
  ifName: string;
  networkName: string;
  /** The list's bytes as the runtime loaded them. */
  config: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
}

export function cacheFilePath(netName: string, k: CacheKey): string {
  if (netName === '' || k.containerId === '' || k.ifName === '')
    throw new CniError(
      4,
      `cache file path requires network name (${JSON.stringify(netName)}), container ID (${JSON.stringify(k.containerId)}), and interface name (${JSON.stringify(k.ifName)})`,
    );
  return `${CNI_CACHE_DIR}/results/${netName}-${k.containerId}-${k.ifName}`;
}

/** cacheAdd: the record libcni writes after the last plugin of an ADD succeeded. */
export function cacheAdd(fs: NodeFs, result: Result, version: CniVersion, a: CachedAttachment): string {
  const rec: JsonObject = {
    kind: KIND,
    containerId: a.containerId,
    config: Buffer.from(a.config, 'utf8').toString('base64'),
    ifName: a.ifName,
    networkName: a.networkName,
  };
  if (a.netns) rec.netns = a.netns;
  if (a.cniArgs?.length) rec.cniArgs = a.cniArgs.map(([k, v]) => [k, v]);
  if (a.capabilityArgs && Object.keys(a.capabilityArgs).length > 0)
    rec.capabilityArgs = sortKeysDeep(structuredClone(a.capabilityArgs) as JsonValue);
  rec.result = sortKeysDeep(encodeResult(result, version));
  const path = cacheFilePath(a.networkName, a);
  fs.write(path, goMarshal(rec));
  return path;
}

export function cacheDel(fs: NodeFs, netName: string, k: CacheKey): void {
  if (netName === '' || k.containerId === '' || k.ifName === '') return;
  fs.remove(cacheFilePath(netName, k));
}

function readRecord(fs: NodeFs, netName: string, k: CacheKey): JsonValue | undefined {
  const text = fs.read(cacheFilePath(netName, k));
  if (text === undefined) return undefined;
  try {
    return parseJson(text, cacheFilePath(netName, k)).value;
  } catch (e) {
    throw new CniError(
      6,
      `failed to unmarshal cached network ${JSON.stringify(netName)} config: ${(e as Error).message}`,
    );
  }
}

function resultFrom(v: JsonValue, version: CniVersion): Result {
  if (!isObject(v)) throw new CniError(6, 'cached result is not a JSON object');
  const own = v.cniVersion;
  if (!isSupportedVersion(own)) throw new CniError(1, `cached result has unsupported version ${JSON.stringify(own)}`);
  // Convert to the configuration's version, as libcni does, so the plugins get prevResult in their own version.
  return asSeenBy(decodeResult(v, own), version);
}

/** getCachedResult: the stored result in `version`, or undefined when nothing is cached. */
export function getCachedResult(fs: NodeFs, netName: string, version: CniVersion, k: CacheKey): Result | undefined {
  const v = readRecord(fs, netName, k);
  if (v === undefined) return undefined;
  if (isObject(v) && v.kind === KIND) {
    if (v.result === undefined) return undefined;
    return resultFrom(v.result, version);
  }
  return resultFrom(v, version);
}

/** getCachedConfig: what the ADD was run with (the list's bytes, CNI_ARGS and capability arguments). */
export function getCachedAttachment(fs: NodeFs, netName: string, k: CacheKey): CachedAttachment | undefined {
  const v = readRecord(fs, netName, k);
  if (v === undefined || !isObject(v)) return undefined;
  if (v.kind !== KIND)
    throw new CniError(6, `read cached network ${JSON.stringify(netName)} config has wrong kind: ${String(v.kind)}`);
  return {
    containerId: String(v.containerId),
    ifName: String(v.ifName),
    networkName: String(v.networkName),
    config: Buffer.from(String(v.config), 'base64').toString('utf8'),
    ...(typeof v.netns === 'string' ? { netns: v.netns } : {}),
    ...(Array.isArray(v.cniArgs)
      ? {
          cniArgs: v.cniArgs.map(
            (p) => [String((p as JsonValue[])[0]), String((p as JsonValue[])[1])] as [string, string],
          ),
        }
      : {}),
    ...(isObject(v.capabilityArgs) ? { capabilityArgs: v.capabilityArgs as Record<string, unknown> } : {}),
  };
}
