// Byte destinations for the capture writers. A writer hands over each record as soon as the frame is seen, so a
// long run never sits in memory: `FileByteSink` pushes bytes to the file with `fs.writeSync` through a small bounded
// buffer (64 KiB by default, 0 to write every chunk straight through), like a stdio `FILE*` under tcpdump -w.
// `MemoryByteSink` collects chunks for tests and for callers that want the file as one array.
// Limits: synchronous I/O only (the simulator is synchronous); no rotation (tcpdump -C/-G has no equivalent here).

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface ByteSink {
  write(chunk: Uint8Array): void;
  close(): void;
}

export class FileByteSink implements ByteSink {
  private fd: number | null;
  private readonly buf: Uint8Array;
  private used = 0;

  /** Creates (or truncates) `path`. `bufferSize` bounds what is held before a `writeSync`. */
  constructor(
    readonly path: string,
    bufferSize = 65536,
  ) {
    if (!Number.isInteger(bufferSize) || bufferSize < 0) throw new RangeError(`bad buffer size ${bufferSize}`);
    this.fd = openSync(path, 'w');
    this.buf = new Uint8Array(bufferSize);
  }

  write(chunk: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: write after close`);
    if (this.used + chunk.length > this.buf.length) {
      this.flush();
      if (chunk.length >= this.buf.length) {
        this.writeAll(chunk);
        return;
      }
    }
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  }

  /** Pushes buffered bytes to the file now. */
  flush(): void {
    if (this.fd === null || this.used === 0) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd!, bytes, off, bytes.length - off);
  }
}

export class MemoryByteSink implements ByteSink {
  private chunks: Uint8Array[] = [];
  private size = 0;
  closed = false;

  write(chunk: Uint8Array): void {
    if (this.closed) throw new Error('memory sink: write after close');
    // Copied: a writer may pass a view of a frame that the stack later rewrites in place (NAT).
    this.chunks.push(chunk.slice());
    this.size += chunk.length;
  }

  close(): void {
    this.closed = true;
  }

  /** Everything written so far, as one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** A factory that opens `FileByteSink`s in `dir` (created if missing), for per-device capture sinks. */
export function fileSinkFactory(dir: string): (fileName: string) => ByteSink {
  mkdirSync(dir, { recursive: true });
  return (fileName) => new FileByteSink(join(dir, fileName));
}
