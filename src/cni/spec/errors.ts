// Errors of the CNI protocol beyond the shared CniError: the codes libcni's types package defines past the
// specification's table (8 for an invalid netns, 999 for a plugin's internal failure, as skel reports any
// non-CNI error), an error about a configuration that names the file, line, column and field, and the wrapping
// libcni applies when one plugin of a list fails (`plugin type="bridge" failed (add): …`).

import { CniError } from '../types.js';
import { formatPath, type JsonDoc, type JsonPath, JsonSyntaxError } from './json.js';

/** types.ErrInvalidNetNS: the sandbox reference is not a usable network namespace. */
export const CNI_ERR_INVALID_NETNS = 8;
/** types.ErrInternal: what skel reports for an error that is not a CNI error object. */
export const CNI_ERR_INTERNAL = 999;

/** A configuration error located in its file. `msg` stays libcni's wording; `details` carries the location. */
export class CniConfError extends CniError {
  constructor(
    code: number,
    msg: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    /** The field as people write it (`plugins[1].type`), or undefined for the document as a whole. */
    readonly field: string | undefined,
    /** A longer explanation after the location. */
    readonly explanation?: string,
  ) {
    super(
      code,
      msg,
      `${file}:${line}:${col}${field !== undefined && field !== '' ? `: field "${field}"` : ''}${explanation ? `: ${explanation}` : ''}`,
    );
  }

  /** One line for people: `file:line:col: field: msg (explanation)`. */
  describe(): string {
    const f = this.field ? `${this.field}: ` : '';
    return `${this.file}:${this.line}:${this.col}: ${f}${this.message}${this.explanation ? ` (${this.explanation})` : ''}`;
  }
}

/** An error pointing at the value (or, with `key`, the member name) at `path` in `doc`. */
export function confErrorAt(
  doc: JsonDoc,
  path: JsonPath,
  code: number,
  msg: string,
  explanation?: string,
  opts: { key?: boolean } = {},
): CniConfError {
  let p = opts.key ? doc.keyPos(path) : doc.pos(path);
  // A missing member is reported where its object starts.
  for (let n = path.length; !p && n >= 0; n--) p = doc.pos(path.slice(0, n));
  return new CniConfError(code, msg, doc.file, p?.line ?? 1, p?.col ?? 1, formatPath(path) || undefined, explanation);
}

/** A JSON syntax error as libcni reports it (code 6, `error parsing configuration…: <encoding/json reason>`). */
export function decodeError(e: JsonSyntaxError, prefix: string): CniConfError {
  return new CniConfError(6, `${prefix}: ${e.reason}`, e.file, e.line, e.col, undefined);
}

/** The error a plugin's failure becomes: CNI errors keep their code, anything else is skel's code 999. */
export function asCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof JsonSyntaxError) return decodeError(e, 'error parsing configuration');
  return new CniError(CNI_ERR_INTERNAL, e instanceof Error ? e.message : String(e));
}

/** libcni's wrapping of a plugin failure inside a list (`plugin type="portmap" failed (add): …`). */
export function wrapPluginError(
  e: CniError,
  plugin: { type: string; name?: unknown },
  op: 'add' | 'delete' | null,
): CniError {
  if (op === null) return e;
  const name = typeof plugin.name === 'string' && plugin.name !== '' ? ` name="${plugin.name}"` : '';
  const msg = `plugin type="${plugin.type}"${name} failed (${op}): ${e.message}`;
  if (e instanceof CniConfError) return new CniConfError(e.code, msg, e.file, e.line, e.col, e.field, e.explanation);
  return new CniError(e.code, msg, e.details);
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(' ')}]`;
}
