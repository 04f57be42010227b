// Go's encoding/json filling a struct, as flannel's configuration types are filled, over a document parsed with
// positions (../../cni/spec/json.ts) so that every error names the line and column it is about:
// - members are taken in document order; a key matches a field exactly or else ignoring case; unknown keys and
//   `null` leave the field as it was (a type with its own UnmarshalJSON is handed `null` like any value);
// - a value of the wrong JSON kind (or a number that does not fit the field) is an UnmarshalTypeError: decoding
//   goes on and the first such error is returned at the end (`json: cannot unmarshal string into Go struct field
//   Config.SubnetLen of type uint`);
// - a field with its own UnmarshalJSON (flannel's IP4, IP4Net) gets the raw bytes of the value, and its error stops
//   decoding at once.
// Limits: ASCII case folding only (Go folds a few more letters, such as the Kelvin sign).

import { isObject, type JsonDoc, type JsonObject, type JsonPath, type JsonValue } from '../../cni/spec/json.js';

/** An error in a flannel configuration, located in its document. `reason` is flannel's own wording. */
export class FlannelConfigError extends Error {
  override readonly name = 'FlannelConfigError';
  constructor(
    readonly reason: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    /** The member the error is about, as people write it (`Backend.Type`), when there is one. */
    readonly field?: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
  }
}

/** encoding/json's name of a value's JSON kind in its messages. */
export function goKind(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** The error located at the value at `path` (or at the closest enclosing value that exists). */
export function errorAt(doc: JsonDoc, path: JsonPath, reason: string, field?: string): FlannelConfigError {
  let p = doc.pos(path);
  for (let n = path.length - 1; !p && n >= 0; n--) p = doc.pos(path.slice(0, n));
  return new FlannelConfigError(reason, doc.file, p?.line ?? 1, p?.col ?? 1, field);
}

/** The source text of the value at `path`: what a Go UnmarshalJSON method receives. */
export function rawText(doc: JsonDoc, path: JsonPath): string {
  const p = doc.pos(path);
  if (!p) return '';
  const s = doc.text;
  const start = p.offset;
  let i = start;
  const c = s[i];
  if (c === '"') {
    i++;
    while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
    return s.slice(start, i + 1);
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    for (; i < s.length; i++) {
      const d = s[i];
      if (d === '"') {
        i++;
        while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return s.slice(start, i + 1);
      }
    }
    return s.slice(start);
  }
  while (i < s.length && !/[\s,\]}]/.test(s[i]!)) i++;
  return s.slice(start, i);
}

/** bytes.Trim(raw, `"`), as flannel's UnmarshalJSON methods begin. */
export function trimQuotes(raw: string): string {
  return raw.replace(/^"+/, '').replace(/"+$/, '');
}

/** Stops decoding at once (an UnmarshalJSON method failed). */
class Abort extends Error {
  constructor(readonly error: FlannelConfigError) {
    super(error.message);
  }
}

export interface FieldContext {
  doc: JsonDoc;
  /** Path of the member's value. */
  path: JsonPath;
  value: JsonValue;
  /** `Config.SubnetLen`: the struct and field as encoding/json names them in a type error. */
  goField: string;
  /** Records an UnmarshalTypeError for this member (kept only if it is the first). */
  typeError(goType: string, numberText?: string): void;
  /** Fails decoding now with `reason` (what an UnmarshalJSON method returned). */
  abort(reason: string): never;
}

export type FieldDecoder = (c: FieldContext) => void;

/**
 * Decodes the object at `path` into fields: `fields` maps each Go field name to its decoder (called for every
 * matching member in document order, also for `null`, which only types with their own UnmarshalJSON heed).
 * `structName` is the Go type's name (`Config`, `VXLANConfig`, or '' for an anonymous struct); `goType` its full
 * name for a non-object value (`subnet.Config`).
 */
export function decodeStruct(
  doc: JsonDoc,
  path: JsonPath,
  structName: string,
  goType: string,
  fields: Record<string, FieldDecoder>,
  /** The JSON names of the fields when they differ from the Go names (struct tags). */
  jsonNames: Record<string, string> = {},
): void {
  const v = path.length === 0 ? doc.value : valueAt(doc.value, path);
  if (v === null || v === undefined) return;
  if (!isObject(v)) throw errorAt(doc, path, `json: cannot unmarshal ${goKind(v)} into Go value of type ${goType}`);
  const names = Object.keys(fields);
  let first: FlannelConfigError | undefined;
  try {
    for (const key of Object.keys(v)) {
      const name = names.find((n) => (jsonNames[n] ?? n) === key) ?? names.find((n) => foldEq(jsonNames[n] ?? n, key));
      if (name === undefined) continue;
      const value = v[key]!;
      const memberPath = [...path, key];
      const goField = `${structName}.${jsonNames[name] ?? name}`;
      const ctx: FieldContext = {
        doc,
        path: memberPath,
        value,
        goField,
        typeError(type, numberText) {
          if (first) return;
          const what = numberText !== undefined ? `number ${numberText}` : goKind(value);
          first = errorAt(
            doc,
            memberPath,
            `json: cannot unmarshal ${what} into Go struct field ${goField} of type ${type}`,
            fieldPath(memberPath),
          );
        },
        abort(reason) {
          throw new Abort(errorAt(doc, memberPath, reason, fieldPath(memberPath)));
        },
      };
      fields[name]!(ctx);
    }
  } catch (e) {
    if (e instanceof Abort) throw e.error;
    throw e;
  }
  if (first) throw first;
}

function foldEq(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

function valueAt(root: JsonValue, path: JsonPath): JsonValue | undefined {
  let v: JsonValue | undefined = root;
  for (const seg of path) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = Array.isArray(v) ? v[seg as number] : (v as JsonObject)[seg as string];
  }
  return v;
}

/** `Backend.Type` for a path of member names. */
export function fieldPath(path: JsonPath): string {
  return path.map(String).join('.');
}

/** A Go `bool` field. */
export function boolField(set: (b: boolean) => void): FieldDecoder {
  return (c) => {
    if (c.value === null) return;
    if (typeof c.value === 'boolean') set(c.value);
    else c.typeError('bool');
  };
}

/** A Go `string` field. */
export function stringField(set: (s: string) => void): FieldDecoder {
  return (c) => {
    if (c.value === null) return;
    if (typeof c.value === 'string') set(c.value);
    else c.typeError('string');
  };
}

/** The literal text of a number member, as Go quotes it in a type error. */
function numberText(c: FieldContext): string {
  return rawText(c.doc, c.path);
}

/** A Go integer field: `uint` (0 … 2^64−1) or `int` (−2^63 … 2^63−1); the number must be integral. */
export function intField(goType: 'int' | 'uint', set: (n: number) => void): FieldDecoder {
  return (c) => {
    if (c.value === null) return;
    if (typeof c.value !== 'number') {
      c.typeError(goType);
      return;
    }
    const text = numberText(c);
    const n = c.value;
    // strconv.ParseUint refuses a sign, ParseInt an exponent or a fraction.
    const integral = goType === 'uint' ? /^\d+$/.test(text) : /^-?\d+$/.test(text);
    const fits = goType === 'uint' ? n >= 0 && n <= 2 ** 64 - 1 : n >= -(2 ** 63) && n <= 2 ** 63 - 1;
    if (!integral || !fits) {
      c.typeError(goType, text);
      return;
    }
    set(n);
  };
}

/** A field of a type with its own UnmarshalJSON: gets the raw text, returns an error text or null. */
export function customField(unmarshal: (raw: string) => string | null): FieldDecoder {
  return (c) => {
    const err = unmarshal(rawText(c.doc, c.path));
    if (err !== null) c.abort(err);
  };
}
