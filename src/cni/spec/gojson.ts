// JSON text exactly as Go's encoding/json writes it, since that is what CNI plugins print and libcni caches:
// json.Marshal (compact) and json.MarshalIndent(v, "", "    ") as types.Result.Print uses, with Go's string escaping
// (HTML-safe: <, >, & as \u003c…, U+2028/U+2029 escaped, \b and \f as Go 1.22+ writes them). Key order is the
// caller's: Go writes struct fields in declaration order and map keys sorted, so callers build objects in the right
// order or pass them through `sortKeysDeep` for values Go holds as maps.

import type { JsonValue } from './json.js';

function goString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += '\\\\';
        continue;
      case 0x0a:
        out += '\\n';
        continue;
      case 0x0d:
        out += '\\r';
        continue;
      case 0x09:
        out += '\\t';
        continue;
      case 0x08:
        out += '\\b';
        continue;
      case 0x0c:
        out += '\\f';
        continue;
    }
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const lead = c <= 0xdbff;
      const next = s.charCodeAt(i + 1);
      if (lead && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\\ufffd';
      continue;
    }
    out += s[i];
  }
  return `${out}"`;
}

function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n}`);
  if (Object.is(n, -0)) return '-0';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // strconv 'e' format with a two-digit minimum exponent, then encoding/json's clean-up of "e-07" to "e-7".
    const [m, e] = n.toExponential().split('e') as [string, string];
    return `${m}e${e.startsWith('-') ? '-' : '+'}${e.replace(/^[+-]/, '').padStart(2, '0')}`.replace(
      /e-0(\d)$/,
      'e-$1',
    );
  }
  return String(n);
}

function write(v: JsonValue | undefined, indent: string | null, level: number): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'string') return goString(v);
  const nl = (l: number): string => (indent === null ? '' : `\n${indent.repeat(l)}`);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${v.map((x) => nl(level + 1) + write(x, indent, level + 1)).join(',')}${nl(level)}]`;
  }
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  if (keys.length === 0) return '{}';
  const sep = indent === null ? ':' : ': ';
  return `{${keys.map((k) => nl(level + 1) + goString(k) + sep + write(v[k], indent, level + 1)).join(',')}${nl(level)}}`;
}

/** json.Marshal: compact. Members whose value is `undefined` are left out (Go's omitempty, decided by the caller). */
export function goMarshal(v: JsonValue): string {
  return write(v, null, 0);
}

/** json.MarshalIndent(v, "", indent), as a plugin prints its result or error (no trailing newline). */
export function goMarshalIndent(v: JsonValue, indent = '    '): string {
  return write(v, indent, 0);
}

/** The order Go writes a map[string]interface{} in: keys sorted bytewise, at every level. */
export function sortKeysDeep(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(v).sort(bytewise)) {
    Object.defineProperty(out, k, { value: sortKeysDeep(v[k]!), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Go's string comparison (UTF-8 bytes), which for these keys is UTF-16 code-unit order outside surrogates. */
export function bytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
