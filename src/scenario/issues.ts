// Turns zod issues into one-line messages that name the field path (`steps[1].connect.to: …`) and say where in
// the file to point: at the value, at an unknown key, or at the mapping that lacks a required key. Unions are
// resolved to the branch the author evidently meant (the one whose own keys are present), so a typo inside a
// `connect` step is reported as such rather than as "not a ping step either".

import { z } from 'zod';

type Issue = z.core.$ZodIssue;

export interface Located {
  /** Data path of the node to point at. */
  path: PropertyKey[];
  /** Point at the key of the last path element instead of its value. */
  key: boolean;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? String(seg) : `.${String(seg)}`;
  }
  return s;
}

function withPath(path: readonly PropertyKey[], message: string): string {
  return path.length === 0 ? message : `${formatPath(path)}: ${message}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  if (v instanceof Date) return 'a date';
  if (v instanceof Set) return 'a set';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return `${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  object: 'a mapping',
  array: 'a list',
  boolean: 'true or false',
};

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else return s;
  }
}

function child(s: z.ZodType | undefined, seg: PropertyKey): z.ZodType | undefined {
  if (s instanceof z.ZodObject && typeof seg === 'string') return (s.shape as Record<string, z.ZodType>)[seg];
  if (s instanceof z.ZodArray && typeof seg === 'number') return s.element as z.ZodType;
  return undefined;
}

/** Follows `path` through wrappers, objects and arrays; in a union, through the member that has the next key. */
function schemaAt(schema: z.ZodType | undefined, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s = unwrap(schema);
  for (const seg of path) {
    if (s instanceof z.ZodUnion) {
      s = (s.options as readonly z.ZodType[]).map(unwrap).find((o) => child(o, seg) !== undefined);
    }
    s = unwrap(child(s, seg));
  }
  return s;
}

function isMissing(data: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(data, path.slice(0, -1));
  return isRecord(parent) && !Object.hasOwn(parent, path[path.length - 1] as string);
}

/** The branch does not accept this kind of value at all (a mapping where it wants a string, …). */
function rejectsType(is: Issue, input: unknown): boolean {
  if (is.path.length !== 0) return false;
  if (is.code === 'invalid_type') return true;
  return is.code === 'invalid_value' && input !== null && typeof input === 'object';
}

/** Issues that say the branch does not fit the object's keys at all: unknown keys, missing keys. */
function structural(issues: readonly Issue[], data: unknown, base: readonly PropertyKey[]): number {
  let n = 0;
  for (const is of issues) {
    if (is.code === 'unrecognized_keys' && is.path.length === 0) n += is.keys.length;
    else if (is.code === 'invalid_type' && is.path.length === 1 && isMissing(data, [...base, ...is.path])) n++;
  }
  return n;
}

/** Every place an issue points to (a union contributes all issues of the branch it resolves to). */
export function locate(issue: Issue, data: unknown, schema: z.ZodType, base: readonly PropertyKey[] = []): Located[] {
  if (issue.code === 'invalid_union') {
    const path = [...base, ...issue.path];
    return locateUnion(issue, data, schema, path, valueAt(data, path));
  }
  return [locateOne(issue, data, schema, base)];
}

function locateOne(issue: Issue, data: unknown, schema: z.ZodType, base: readonly PropertyKey[]): Located {
  const path = [...base, ...issue.path];
  const input = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type': {
      if (isMissing(data, path)) {
        const parent = path.slice(0, -1);
        return {
          path: parent,
          key: false,
          message: withPath(parent, `missing required field '${String(path.at(-1))}'`),
        };
      }
      const target = schemaAt(schema, issue.path);
      const kind =
        issue.expected === 'number' && target instanceof z.ZodNumber && target.isInt ? 'int' : issue.expected;
      const expected = EXPECTED[kind] ?? kind;
      return { path, key: false, message: withPath(path, `expected ${expected}, got ${describe(input)}`) };
    }
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const obj = schemaAt(schema, issue.path);
      const known = obj instanceof z.ZodObject ? `; expected one of: ${Object.keys(obj.shape).join(', ')}` : '';
      return { path: [...path, key], key: true, message: withPath(path, `unknown field '${key}'${known}`) };
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v)).join(', ');
      const what =
        typeof input === 'string'
          ? `invalid value ${describe(input)}; expected one of: ${values}`
          : `expected one of: ${values}, got ${describe(input)}`;
      return { path, key: false, message: withPath(path, what) };
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'least' : 'most';
      let what: string;
      if (issue.origin === 'array') what = `needs at ${word} ${String(bound)} item${bound === 1 ? '' : 's'}`;
      else if (issue.origin === 'string') what = bound === 1 ? 'must not be empty' : `length at ${word} ${bound}`;
      else what = `must be at ${word} ${String(bound)}, got ${describe(input)}`;
      return { path, key: false, message: withPath(path, what) };
    }
    default:
      return { path, key: false, message: withPath(path, issue.message) };
  }
}

function locateUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  data: unknown,
  schema: z.ZodType,
  path: PropertyKey[],
  input: unknown,
): Located[] {
  const union = schemaAt(schema, issue.path);
  const options = union instanceof z.ZodUnion ? (union.options as readonly z.ZodType[]) : [];
  const branches = issue.errors
    .map((issues, i) => ({ issues, schema: options[i] }))
    .filter((b) => b.schema !== undefined && !b.issues.some((is) => rejectsType(is, input)));
  if (branches.length === 0) {
    const expected = new Set<string>();
    for (const issues of issue.errors) {
      for (const is of issues) if (is.code === 'invalid_type' && is.path.length === 0) expected.add(is.expected);
    }
    const list = [...expected].map((e) => EXPECTED[e] ?? e).join(' or ');
    return [
      { path, key: false, message: withPath(path, `expected ${list || 'something else'}, got ${describe(input)}`) },
    ];
  }
  const scored = branches.map((b) => ({ ...b, s: structural(b.issues, data, path), n: b.issues.length }));
  scored.sort((a, b) => a.s - b.s || a.n - b.n);
  const best = scored.filter((b) => b.s === scored[0]!.s && b.n === scored[0]!.n);
  if (best.length > 1 && isRecord(input)) {
    // Several shapes fit equally badly because the key that tells them apart is absent: name those keys.
    const missingPer = best.map(
      (b) =>
        new Set(
          b.issues
            .filter(
              (is) => is.code === 'invalid_type' && is.path.length === 1 && isMissing(data, [...path, ...is.path]),
            )
            .map((is) => String(is.path[0])),
        ),
    );
    const all = [...new Set(missingPer.flatMap((m) => [...m]))];
    const distinguishing = all.filter((k) => !missingPer.every((m) => m.has(k)));
    if (distinguishing.length > 1) {
      return [{ path, key: false, message: withPath(path, `needs one of: ${distinguishing.join(', ')}`) }];
    }
  }
  const chosen = scored[0]!;
  if (chosen.issues.length === 0) return [{ path, key: false, message: withPath(path, issue.message) }];
  return chosen.issues.flatMap((is) => locate(is, data, chosen.schema!, path));
}
