// CNI specification versions: which ones podwire speaks (0.3.0, 0.3.1, 0.4.0, 1.0.0 — the ones with the rich
// result type and chaining), semver comparison as libcni's version package does it, and the error skel gives for a
// configuration in a version the plugin does not support (code 1, "incompatible CNI versions").
// Limits: 0.1.0/0.2.0 (the pre-chaining result with ip4/ip6) and 1.1.0 (GC, STATUS, cniVersions) are refused.

import { CniError, type CniVersion, SUPPORTED_VERSIONS } from '../types.js';
import { goQuoteList } from './errors.js';

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

function parts(v: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** version.GreaterThanOrEqualTo; throws on a string that is not MAJOR.MINOR.PATCH. */
export function versionAtLeast(v: string, min: string): boolean {
  const a = parts(v);
  const b = parts(min);
  if (!a) throw new CniError(6, `failed to parse version "${v}"`);
  if (!b) throw new CniError(6, `failed to parse version "${min}"`);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/** version.Reconciler's complaint, as skel reports it: code 1, details naming both sides. */
export function incompatibleVersion(configVersion: string): CniError {
  return new CniError(
    1,
    'incompatible CNI versions',
    `config is ${JSON.stringify(configVersion)}, plugin supports ${goQuoteList(SUPPORTED_VERSIONS)}`,
  );
}

/** The version libcni's ConfigDecoder reads: an absent or empty cniVersion means 0.1.0. */
export function effectiveVersion(v: string | undefined): string {
  return v === undefined || v === '' ? '0.1.0' : v;
}
