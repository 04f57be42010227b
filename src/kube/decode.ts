// Decoding a manifest object against its kind's schema, as the API server's strict JSON decoder does: a value of
// the wrong JSON type is `json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type
// int32`, a field the type does not have is `strict decoding error: unknown field "spec.ports[0].targetport"`.
// Server-set fields are dropped, null members are treated as absent (Go leaves the zero value), and an unsupported
// field with a non-default value becomes a Forbidden field error. The result keeps every other field as written.
// Integral floats (80.0) pass as integers, as kubectl's YAML-to-JSON conversion turns them into 80.
// Limits: messages name the first type mismatch only, as the Go decoder stops at it.

import type { FieldError, PathSeg } from './errors.js';
import { fieldErr } from './errors.js';
import type { Field, Schema } from './schema.js';
import { isPlainObject } from './util.js';

export interface DecodeProblem {
  path: PathSeg[];
  /** True when the problem is the key (an unknown field), false when it is the value. */
  atKey: boolean;
  message: string;
}

export interface Decoded {
  value: Record<string, unknown>;
  /** Type mismatches and unknown fields: the object cannot be handled at all. */
  problems: DecodeProblem[];
  /** Unsupported fields with a value that would matter. */
  unsupported: FieldError[];
}

function jsonType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** `spec.ports[0].targetport`, the form sigs.k8s.io/json names unknown fields in. */
function jsonPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const s of path) {
    if (typeof s === 'number') out += `[${s}]`;
    else {
      const name = typeof s === 'string' ? s : s.key;
      out += out === '' ? name : `.${name}`;
    }
  }
  return out;
}

const GO_TYPE: Record<string, string> = {
  string: 'string',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  intstr: 'intstr.IntOrString',
  strmap: 'string',
};

export function decode(schema: Schema, input: Record<string, unknown>): Decoded {
  const problems: DecodeProblem[] = [];
  const unsupported: FieldError[] = [];

  /** Go's "struct field" name: the enclosing struct and the dotted JSON path without indexes. */
  const goField = (struct: string, path: readonly PathSeg[]): string =>
    `${struct}.${path
      .filter((s) => typeof s !== 'number')
      .map((s) => (typeof s === 'string' ? s : s.key))
      .join('.')}`;

  const mismatch = (v: unknown, struct: string, path: PathSeg[], type: string): void => {
    const what = typeof v === 'number' ? `number ${v}` : jsonType(v);
    problems.push({
      path,
      atKey: false,
      message: `json: cannot unmarshal ${what} into Go struct field ${goField(struct, path)} of type ${type}`,
    });
  };

  const walk = (s: Schema, v: unknown, path: PathSeg[], struct: string): unknown => {
    switch (s.t) {
      case 'any':
        return v;
      case 'string':
        if (typeof v !== 'string') mismatch(v, struct, path, 'string');
        return v;
      case 'bool':
        if (typeof v !== 'boolean') mismatch(v, struct, path, 'bool');
        return v;
      case 'int32':
      case 'int64': {
        const max = s.t === 'int32' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
        if (typeof v !== 'number') mismatch(v, struct, path, GO_TYPE[s.t]!);
        else if (!Number.isInteger(v) || v > max || v < -max - 1) {
          problems.push({
            path,
            atKey: false,
            message: `json: cannot unmarshal number ${v} into Go struct field ${goField(struct, path)} of type ${s.t}`,
          });
        }
        return v;
      }
      case 'intstr':
        if (typeof v === 'number' ? !Number.isInteger(v) : typeof v !== 'string') {
          mismatch(v, struct, path, 'intstr.IntOrString');
        }
        return v;
      case 'strmap': {
        if (!isPlainObject(v)) {
          mismatch(v, struct, path, 'map[string]string');
          return v;
        }
        const out: Record<string, string> = {};
        for (const [k, x] of Object.entries(v)) {
          if (x === null) {
            out[k] = '';
            continue;
          }
          if (typeof x !== 'string') {
            const what = typeof x === 'number' ? 'number' : jsonType(x);
            problems.push({
              path: [...path, { key: k }],
              atKey: false,
              message: `json: cannot unmarshal ${what} into Go struct field ${goField(struct, path)} of type string`,
            });
          }
          out[k] = x as string;
        }
        return out;
      }
      case 'list': {
        if (!Array.isArray(v)) {
          mismatch(v, struct, path, `[]${s.of.t === 'struct' ? `v1.${s.of.go}` : (GO_TYPE[s.of.t] ?? 'interface {}')}`);
          return v;
        }
        return v.map((x, i) => (x === null ? x : walk(s.of, x, [...path, i], struct)));
      }
      case 'struct': {
        if (!isPlainObject(v)) {
          mismatch(v, struct, path, `v1.${s.go}`);
          return v;
        }
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          const f: Field | undefined = Object.hasOwn(s.fields, k) ? s.fields[k] : undefined;
          const p = [...path, k];
          if (f === undefined) {
            problems.push({ path: p, atKey: true, message: `unknown field ${JSON.stringify(jsonPath(p))}` });
            continue;
          }
          if (x === null || x === undefined) continue;
          if ('mod' in f) {
            if (f.mod === 'drop') continue;
            const value = walk(f.s, x, p, s.go);
            if (!f.harmless(value)) unsupported.push(fieldErr.forbidden(p, `not supported by podwire: ${f.why}`));
            out[k] = value;
            continue;
          }
          out[k] = walk(f, x, p, s.go);
        }
        return out;
      }
    }
  };

  const value = walk(schema, input, [], schema.t === 'struct' ? schema.go : '') as Record<string, unknown>;
  return { value, problems, unsupported };
}

/** The decoder's message for a kind: `Service in version "v1" cannot be handled as a Service: …`. */
export function decodeMessage(kind: string, version: string, problems: readonly DecodeProblem[]): string {
  const type = problems.find((p) => !p.atKey);
  const detail =
    type !== undefined
      ? type.message
      : `strict decoding error: ${problems
          .filter((p) => p.atKey)
          .map((p) => p.message)
          .join(', ')}`;
  return `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: ${detail}`;
}
