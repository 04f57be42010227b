// CNI_ARGS: "K=V;K2=V2" pairs a runtime passes to every plugin of a list (SPEC.md section 2; kubelet and containerd
// send IgnoreUnknown=1;K8S_POD_NAMESPACE=…;K8S_POD_NAME=…;K8S_POD_INFRA_CONTAINER_ID=…;K8S_POD_UID=…). Parsing
// follows libcni's types.LoadArgs: pairs split on ';' then '=', a pair without exactly one '=' is an error, keys a
// plugin does not know are an error unless IgnoreUnknown is 1/true (any case).

import { CniError } from '../types.js';
import { goQuoteList } from './errors.js';

/** Pairs in order. Throws CniError 4 (invalid environment variable) for a malformed pair. */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === '') return out;
  for (const pair of text.split(';')) {
    const kv = pair.split('=');
    if (kv.length !== 2) throw new CniError(4, `ARGS: invalid pair ${JSON.stringify(pair)}`, 'CNI_ARGS');
    Object.defineProperty(out, kv[0]!, { value: kv[1]!, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function formatCniArgs(args: Record<string, string>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

/** UnmarshallableBool: 1/true/0/false in any case. */
export function argBool(v: string): boolean {
  const s = v.toLowerCase();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  throw new CniError(4, `ARGS: error parsing value: boolean unmarshal error: invalid input ${s}`, 'CNI_ARGS');
}

/**
 * What a plugin reads from CNI_ARGS with types.LoadArgs: the known keys' values; unknown keys are an error unless
 * IgnoreUnknown is set (IgnoreUnknown itself is always known).
 */
export function loadArgs(args: Record<string, string>, known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const unknown: string[] = [];
  let ignoreUnknown = false;
  for (const [k, v] of Object.entries(args)) {
    if (k === 'IgnoreUnknown') ignoreUnknown = argBool(v);
    else if (known.includes(k)) out[k] = v;
    else unknown.push(`${k}=${v}`);
  }
  if (unknown.length > 0 && !ignoreUnknown)
    throw new CniError(4, `ARGS: unknown args ${goQuoteList(unknown)}`, 'CNI_ARGS');
  return out;
}
