import { PassThrough } from 'node:stream';

import type { DataLake } from '../ports/data-lake';

const FLUSH_CHARS = 1 << 16;

/**
 * JSON lines streamed into one lake object (quarantine files): the upload starts with the first
 * line, so a file with no line is never written and memory holds only what the upload has not
 * taken yet, however many lines there are.
 */
export class LakeLineSink {
  private stream: PassThrough | undefined;
  private upload: Promise<unknown> | undefined;
  private pending = '';
  lines = 0;

  constructor(
    private readonly lake: DataLake,
    readonly path: string,
  ) {}

  async write(value: unknown): Promise<void> {
    this.pending += `${JSON.stringify(value)}\n`;
    this.lines += 1;
    if (this.pending.length >= FLUSH_CHARS) await this.flush();
  }

  /** Ends the object and waits for it to be stored; false when no line was written (no object). */
  async close(): Promise<boolean> {
    if (this.pending.length > 0) await this.flush();
    if (!this.stream) return false;
    this.stream.end();
    await this.upload;
    return true;
  }

  /** Gives the object up: nothing is stored, and the upload (if started) ends with its buffers. */
  async abort(): Promise<void> {
    this.pending = '';
    if (!this.stream) return;
    // Destroyed with an error, so the upload fails (without one it would wait for an end forever);
    // listened to, so a store that has not yet attached its own listener does not crash the process.
    this.stream.on('error', () => undefined);
    this.stream.destroy(new Error(`the lines for '${this.path}' were abandoned`));
    await this.upload!.catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (!this.stream) {
      this.stream = new PassThrough({ highWaterMark: 4 * FLUSH_CHARS });
      this.upload = this.lake.write(this.path, this.stream, { contentType: 'application/x-ndjson' });
      // Awaited in close() or raced below; never an unhandled rejection meanwhile.
      this.upload.catch(() => undefined);
    }
    const stream = this.stream;
    const room = stream.write(this.pending);
    this.pending = '';
    if (!room) await Promise.race([new Promise((resolve) => stream.once('drain', resolve)), this.upload]);
  }
}
