// JSON as CNI tools read it (RFC 8259, Go's encoding/json rules: no comments, no trailing commas, a duplicate key
// keeps its last value), parsed while remembering where every value and member key starts, so that an error about
// a configuration can name the file, line, column and field. Syntax errors use encoding/json's wording
// ("invalid character 'x' after object key", "unexpected end of JSON input") with the position added.
// Limits: columns count UTF-16 code units; nesting deeper than Go's 10000 levels is refused as Go refuses it.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [k: string]: JsonValue;
}

/** A member name or array index on the way from the document's root to a value. */
export type JsonPath = readonly (string | number)[];

export interface JsonPos {
  line: number;
  col: number;
  offset: number;
}

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    /** encoding/json's own wording, without the position. */
    readonly reason: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
  }
}

export interface JsonDoc {
  readonly value: JsonValue;
  readonly file: string;
  readonly text: string;
  /** Where the value at `path` starts (undefined when nothing is there). */
  pos(path: JsonPath): JsonPos | undefined;
  /** Where the member name of the value at `path` starts (object members only). */
  keyPos(path: JsonPath): JsonPos | undefined;
}

const MAX_DEPTH = 10000;

/** `plugins[1].ipam.type`: a path as people write it (quoted when a key is not a plain identifier). */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}

/** Go's quoteChar: how encoding/json shows an unexpected character. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class Parser {
  private i = 0;
  private depth = 0;
  private readonly lineStarts: number[] = [0];
  readonly valuePos = new Map<string, JsonPos>();
  readonly keyPositions = new Map<string, JsonPos>();

  constructor(
    private readonly s: string,
    private readonly file: string,
  ) {
    for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
  }

  at(offset: number): JsonPos {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.lineStarts[lo]! + 1, offset };
  }

  private fail(reason: string, offset = this.i): never {
    const p = this.at(offset);
    throw new JsonSyntaxError(reason, this.file, p.line, p.col);
  }

  private eof(): never {
    this.fail('unexpected end of JSON input', this.s.length);
  }

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else break;
    }
  }

  parseDocument(): JsonValue {
    this.ws();
    if (this.i >= this.s.length) this.eof();
    const v = this.value([], 'looking for beginning of value');
    this.ws();
    if (this.i < this.s.length) this.fail(`invalid character ${quoteChar(this.s[this.i]!)} after top-level value`);
    return v;
  }

  private value(path: (string | number)[], context: string): JsonValue {
    if (this.i >= this.s.length) this.eof();
    this.valuePos.set(pathKey(path), this.at(this.i));
    const c = this.s[this.i]!;
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    this.fail(`invalid character ${quoteChar(c)} ${context}`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`exceeded max depth of ${MAX_DEPTH}`);
  }

  private object(path: (string | number)[]): JsonObject {
    this.enter();
    this.i++;
    const obj: JsonObject = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      this.depth--;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.i >= this.s.length) this.eof();
      if (this.s[this.i] !== '"')
        this.fail(`invalid character ${quoteChar(this.s[this.i]!)} looking for beginning of object key string`);
      const keyAt = this.at(this.i);
      const key = this.string();
      const child = [...path, key];
      this.keyPositions.set(pathKey(child), keyAt);
      this.ws();
      if (this.i >= this.s.length) this.eof();
      if (this.s[this.i] !== ':') this.fail(`invalid character ${quoteChar(this.s[this.i]!)} after object key`);
      this.i++;
      this.ws();
      // A repeated key replaces the earlier value, as encoding/json does when it fills a map.
      Object.defineProperty(obj, key, {
        value: this.value(child, 'looking for beginning of value'),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const c = this.s[this.i]!;
      this.i++;
      if (c === '}') break;
      if (c !== ',') this.fail(`invalid character ${quoteChar(c)} after object key:value pair`, this.i - 1);
    }
    this.depth--;
    return obj;
  }

  private array(path: (string | number)[]): JsonValue[] {
    this.enter();
    this.i++;
    const arr: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      this.depth--;
      return arr;
    }
    for (;;) {
      this.ws();
      arr.push(this.value([...path, arr.length], 'looking for beginning of value'));
      this.ws();
      if (this.i >= this.s.length) this.eof();
      const c = this.s[this.i]!;
      this.i++;
      if (c === ']') break;
      if (c !== ',') this.fail(`invalid character ${quoteChar(c)} after array element`, this.i - 1);
    }
    this.depth--;
    return arr;
  }

  private string(): string {
    this.i++;
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= this.s.length) this.eof();
      const c = this.s[this.i]!;
      if (c === '"') {
        out += this.s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c.charCodeAt(0) < 0x20) this.fail(`invalid character ${quoteChar(c)} in string literal`);
      if (c === '\\') {
        out += this.s.slice(start, this.i);
        this.i++;
        if (this.i >= this.s.length) this.eof();
        const e = this.s[this.i]!;
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e in simple) {
          out += simple[e];
          this.i++;
        } else if (e === 'u') {
          const hex = this.s.slice(this.i + 1, this.i + 5);
          for (let k = 0; k < 4; k++) {
            if (this.i + 1 + k >= this.s.length) this.eof();
            if (!/[0-9a-fA-F]/.test(hex[k]!))
              this.fail(`invalid character ${quoteChar(hex[k]!)} in \\u hexadecimal character escape`, this.i + 1 + k);
          }
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.i += 5;
        } else this.fail(`invalid character ${quoteChar(e)} in string escape code`);
        start = this.i;
        continue;
      }
      this.i++;
    }
  }

  private number(): number {
    const start = this.i;
    const digit = (): boolean => this.i < this.s.length && this.s[this.i]! >= '0' && this.s[this.i]! <= '9';
    const bad = (what: string): never => {
      if (this.i >= this.s.length) this.eof();
      this.fail(`invalid character ${quoteChar(this.s[this.i]!)} ${what}`);
    };
    if (this.s[this.i] === '-') {
      this.i++;
      if (!digit()) bad('in numeric literal');
    }
    if (this.s[this.i] === '0') this.i++;
    else while (digit()) this.i++;
    if (this.s[this.i] === '.') {
      this.i++;
      if (!digit()) bad('after decimal point in numeric literal');
      while (digit()) this.i++;
    }
    if (this.s[this.i] === 'e' || this.s[this.i] === 'E') {
      this.i++;
      if (this.s[this.i] === '+' || this.s[this.i] === '-') this.i++;
      if (!digit()) bad('in exponent of numeric literal');
      while (digit()) this.i++;
    }
    return Number(this.s.slice(start, this.i));
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    for (let k = 0; k < word.length; k++) {
      if (this.i + k >= this.s.length) this.eof();
      const c = this.s[this.i + k]!;
      if (c !== word[k])
        this.fail(
          `invalid character ${quoteChar(c)} in literal ${word} (expecting ${quoteChar(word[k]!)})`,
          this.i + k,
        );
    }
    this.i += word.length;
    return v;
  }
}

/** Parses `text`; throws JsonSyntaxError with encoding/json's reason and the line:col it points at. */
export function parseJson(text: string, file = '<json>'): JsonDoc {
  const p = new Parser(text, file);
  const value = p.parseDocument();
  return {
    value,
    file,
    text,
    pos: (path) => p.valuePos.get(pathKey(path)),
    keyPos: (path) => p.keyPositions.get(pathKey(path)),
  };
}

/** A document for a value built in code: every position is the start of a one-line rendering. */
export function docOf(value: JsonValue, file: string): JsonDoc {
  return parseJson(JSON.stringify(value), file);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep copy (configurations are handed to plugins that may keep or change them). */
export function cloneJson<T extends JsonValue>(v: T): T {
  return structuredClone(v);
}
