// Errors the way the API server words them. A field error prints like apimachinery's field.Error
// (`spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`): the path, the error type, the
// bad value formatted as Go's fmt would (%v for numbers and bools, %q for strings, %#v for slices and maps), then
// the detail. An Invalid status joins its field errors as an aggregate (one error bare, several in `[a, b]`,
// duplicates dropped) behind `Service "web" is invalid: `. A ManifestError is the same message placed at a
// line and column of the manifest, printed `file:line:col: message` like a compiler diagnostic.

import { qualifiedKind, qualifiedResource } from './kinds.js';
import type { Kind } from './types.js';

/** A segment of a field path: `.child`, `[index]` or `[key]` (a map key). */
export type PathSeg = string | number | { key: string };
export type FieldPath = readonly PathSeg[];

/** field.Path's String(): `spec.ports[0].name`, `metadata.annotations[podwire.io/ready]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string') out += out === '' ? seg : `.${seg}`;
    else out += `[${seg.key}]`;
  }
  return out;
}

export type FieldErrorType =
  | 'Required'
  | 'Invalid'
  | 'NotSupported'
  | 'Duplicate'
  | 'Forbidden'
  | 'TooLong'
  | 'TooMany'
  | 'NotFound';

const TYPE_TEXT: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  NotSupported: 'Unsupported value',
  Duplicate: 'Duplicate value',
  Forbidden: 'Forbidden',
  TooLong: 'Too long',
  TooMany: 'Too many',
  NotFound: 'Not found',
};

export interface FieldError {
  type: FieldErrorType;
  path: FieldPath;
  /** The bad value already in Go's printed form; absent for the types that never print one. */
  value?: string;
  detail: string;
}

/** A value that prints as given (for Go struct dumps such as `v1.LabelSelector{…}`). */
export interface GoRaw {
  goRaw: string;
}

/** strconv.Quote: double quotes, backslash escapes, \x for other control bytes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** How fmt prints a bad value in a field error. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return goQuote(v);
  if (Array.isArray(v)) return `[]string{${v.map((x) => goQuote(String(x))).join(', ')}}`;
  if (typeof v === 'object' && 'goRaw' in v && typeof (v as GoRaw).goRaw === 'string') return (v as GoRaw).goRaw;
  if (typeof v === 'object') return goStringMap(v as Record<string, string>);
  return String(v);
}

/** `map[string]string{"a":"b", "c":"d"}` with keys sorted, as %#v prints it. */
export function goStringMap(m: Record<string, string> | undefined): string {
  if (m === undefined) return 'map[string]string(nil)';
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(String(m[k]))}`).join(', ')}}`;
}

export const fieldErr = {
  required: (path: FieldPath, detail = ''): FieldError => ({ type: 'Required', path, detail }),
  forbidden: (path: FieldPath, detail: string): FieldError => ({ type: 'Forbidden', path, detail }),
  invalid: (path: FieldPath, value: unknown, detail: string): FieldError => ({
    type: 'Invalid',
    path,
    value: goValue(value),
    detail,
  }),
  duplicate: (path: FieldPath, value: unknown): FieldError => ({
    type: 'Duplicate',
    path,
    value: goValue(value),
    detail: '',
  }),
  notSupported: (path: FieldPath, value: unknown, valid: readonly string[]): FieldError => ({
    type: 'NotSupported',
    path,
    value: goValue(value),
    detail: valid.length > 0 ? `supported values: ${valid.map(goQuote).join(', ')}` : '',
  }),
  tooMany: (path: FieldPath, actual: number, max: number): FieldError => ({
    type: 'TooMany',
    path,
    value: String(actual),
    detail: `must have at most ${max} items`,
  }),
};

/** field.Error's Error(): `path: Type[: value][: detail]`. */
export function formatFieldError(e: FieldError): string {
  let body = TYPE_TEXT[e.type];
  if (e.value !== undefined && e.type !== 'Required' && e.type !== 'Forbidden' && e.type !== 'TooLong') {
    body += `: ${e.value}`;
  }
  if (e.detail !== '') body += `: ${e.detail}`;
  return `${formatPath(e.path)}: ${body}`;
}

/** The aggregate of field errors: duplicates (by text) dropped, one bare, several as `[a, b]`. */
export function aggregate(errs: readonly FieldError[]): string {
  const seen = new Set<string>();
  const msgs: string[] = [];
  for (const e of errs) {
    const m = formatFieldError(e);
    if (!seen.has(m)) {
      seen.add(m);
      msgs.push(m);
    }
  }
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

/** metav1.StatusReason values podwire returns. */
export type StatusReason = 'Invalid' | 'NotFound' | 'AlreadyExists' | 'BadRequest' | 'Forbidden' | 'InternalError';

/** A failed API call, as a Status with its reason and (for Invalid) its field causes. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly causes: readonly FieldError[] = [],
    /** Where in the object the problem is when there are no causes (a missing namespace …). */
    readonly at: FieldPath | undefined = undefined,
  ) {
    super(message);
  }
}

/** errors.NewInvalid: `Service "web" is invalid: <aggregate>`. */
export function invalidError(kind: Kind, name: string, errs: readonly FieldError[]): ApiError {
  return new ApiError('Invalid', `${qualifiedKind(kind)} ${goQuote(name)} is invalid: ${aggregate(errs)}`, errs);
}

/** errors.NewNotFound: `services "web" not found`. */
export function notFound(kind: Kind, name: string, at?: FieldPath): ApiError {
  return new ApiError('NotFound', `${qualifiedResource(kind)} ${goQuote(name)} not found`, [], at);
}

/** errors.NewAlreadyExists: `services "web" already exists`. */
export function alreadyExists(kind: Kind, name: string): ApiError {
  return new ApiError(
    'AlreadyExists',
    `${qualifiedResource(kind)} ${goQuote(name)} already exists`,
    [],
    ['metadata', 'name'],
  );
}

/** errors.NewInternalError: `Internal error occurred: <detail>`. */
export function internalError(detail: string): ApiError {
  return new ApiError('InternalError', `Internal error occurred: ${detail}`);
}

/** A problem placed in a manifest file; line and col are 1-based (0 when the problem has no place). */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    message: string,
    /** The API error behind the message, when there was one. */
    readonly api: ApiError | undefined = undefined,
  ) {
    super(message);
  }

  override toString(): string {
    return this.line > 0 ? `${this.file}:${this.line}:${this.col}: ${this.message}` : `${this.file}: ${this.message}`;
  }
}
