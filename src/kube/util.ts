// Small helpers over plain JSON-shaped objects: semantic equality (absent and undefined are the same, key order does
// not matter), canonical JSON, deep freezing (the store hands out frozen objects so nobody edits them behind its
// back) and the apiserver's name generation: five characters from the consonant-and-digit alphabet of
// k8s.io/apimachinery/pkg/util/rand, drawn from the seeded Rng so runs repeat.

import type { Rng } from '../sim/rng.js';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** JSON with object keys sorted and undefined members left out: equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Without vowels (no words) and without the look-alikes 0, 1, 3 (o, l, e). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character mapped into ALPHANUMS, so a hash reads like a generated name. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

export function randomString(rng: Rng, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHANUMS[rng.int(0, ALPHANUMS.length - 1)];
  return out;
}

/** names.SimpleNameGenerator: the prefix cut to 58 characters, then five random ones. */
export function generateName(prefix: string, rng: Rng): string {
  return prefix.slice(0, 58) + randomString(rng, 5);
}

/** A resource's `generateName` for objects named after a parent: `web-`, or `web` if the dash would not be valid. */
export function namePrefix(parent: string): string {
  return parent.length + 1 > 253 ? parent : `${parent}-`;
}

/** RFC 3339 at second precision, as metav1.Time serializes. */
export function rfc3339(nanos: number): string {
  return `${new Date(Math.floor(nanos / 1e6)).toISOString().slice(0, 19)}Z`;
}
