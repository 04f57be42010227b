// The one error type the scenario layer reports: a position in the scenario file and a message, printed like a
// compiler diagnostic (`file:line:col: message`). Lines and columns are 1-based and count UTF-16 code units, so a
// tab is one column. A line of 0 means the problem has no position inside the file (it could not be read).
// `detail` optionally carries a code frame (the offending source line with a caret) for the CLI to print.

import type { Pos } from './types.js';

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  /** The source line and a caret under the column, when the source text is known. */
  detail: string | undefined;

  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    message: string,
  ) {
    super(message);
  }

  static at(pos: Pos, message: string): ScenarioError {
    return new ScenarioError(pos.file, pos.line, pos.col, message);
  }

  get pos(): Pos {
    return { file: this.file, line: this.line, col: this.col };
  }

  override toString(): string {
    return this.line > 0 ? `${this.file}:${this.line}:${this.col}: ${this.message}` : `${this.file}: ${this.message}`;
  }
}

/** The source line at `line` followed by a caret under `col`; tabs before the caret are kept so it lines up. */
export function codeFrame(source: string, line: number, col: number): string | undefined {
  if (line < 1) return undefined;
  const lines = source.split(/\r?\n|\r/);
  const text = lines[line - 1];
  if (text === undefined) return undefined;
  const gutter = `${line} | `;
  const lead = text.slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
  return `${gutter}${text}\n${' '.repeat(gutter.length - 2)}| ${lead}^`;
}
