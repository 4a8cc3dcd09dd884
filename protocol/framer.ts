// The stream framer: turns TCP chunks of any size into whole BGP messages. Checks only what
// keeps the stream in step (marker, length); decoding the message is message.ts's job.
// RFC 4271 §4.1 and §6.1, RFC 8654 §4.

import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import type { BgpError } from './errors.js';
import { checkFrame } from './header.js';

export interface FramerOptions {
  /** 4096, or 65535 once RFC 8654 Extended Message is negotiated. */
  maxLength?: number;
}

/**
 * Holds at most one partial message. A message that lies wholly inside a chunk is returned as
 * a view of that chunk (no copy); only a message that straddles chunks is copied, into a
 * buffer allocated after its marker and length were checked.
 *
 * `push` does its work at once and returns an iterator over the messages it found. When the
 * framing is lost (bad marker or length), the iterator first yields the messages before the
 * bad header, then throws the BgpError (Message Header Error / Connection Not Synchronized or
 * Bad Message Length). After that the framer is dead: every later push throws the same error.
 */
export class Framer {
  private maxLength: number;
  /** Octets of a header that straddles chunks. */
  private readonly head = Buffer.alloc(HEADER_LENGTH);
  private headFilled = 0;
  /** The straddling message being assembled (header included), once its header is known. */
  private partial: Buffer | null = null;
  private partialFilled = 0;
  private failure: BgpError | null = null;
  /** Found by the last scan: a straddling message it completed, the offsets of the others. */
  private completed: Buffer | null = null;
  private starts = new Int32Array(64);
  private count = 0;
  private inUse = false;

  constructor(opts: FramerOptions = {}) {
    this.maxLength = opts.maxLength ?? MAX_MESSAGE_LENGTH;
  }

  /** After the OPEN exchange: 65535 when both sides sent Extended Message (RFC 8654 §3). */
  setMaxLength(maxLength: number): void {
    this.maxLength = maxLength;
  }

  getMaxLength(): number {
    return this.maxLength;
  }

  /** Octets held for a message not yet complete. */
  get bufferedBytes(): number {
    return this.partial ? this.partialFilled : this.headFilled;
  }

  /** The error that stopped the framer, if any. */
  get error(): BgpError | null {
    return this.failure;
  }

  push(chunk: Buffer): IterableIterator<Buffer> {
    const frames: Buffer[] = [];
    const failure = this.scan(chunk);
    if (this.completed !== null) frames.push(this.completed);
    const starts = this.starts;
    for (let i = 0; i < this.count; i++) {
      const at = starts[i];
      frames.push(chunk.subarray(at, at + ((chunk[at + 16] << 8) | chunk[at + 17])));
    }
    this.release();
    return deliver(frames, failure);
  }

  /**
   * `push` without an object per message, for the receive path: calls `fn(buf, offset)` for
   * each whole message, in order (a message that straddled chunks comes in a buffer of its own,
   * at offset 0; the others are read where they lie in `chunk`). `fn` returning false stops the
   * delivery. Then throws the framing error, as `push`'s iterator does.
   */
  each(chunk: Buffer, fn: (buf: Buffer, offset: number) => boolean | void): void {
    const failure = this.scan(chunk);
    const completed = this.completed;
    const starts = this.starts;
    const n = this.count;
    try {
      if (completed !== null && fn(completed, 0) === false) return;
      for (let i = 0; i < n; i++) if (fn(chunk, starts[i]) === false) return;
    } finally {
      this.release();
    }
    if (failure !== null) throw failure;
  }

  /**
   * Frames `chunk` into `completed` (a straddling message finished by it) and `starts` (the
   * offsets of the whole messages inside it); returns the framing error, if there is one.
   */
  private scan(chunk: Buffer): BgpError | null {
    this.completed = null;
    this.count = 0;
    // A delivery still under way (a caller pushing from inside `each`) keeps its offsets.
    if (this.inUse) this.starts = new Int32Array(this.starts.length);
    this.inUse = true;
    if (this.failure !== null) return this.failure;
    try {
      this.frame(chunk);
    } catch (err) {
      this.failure = err as BgpError;
      this.partial = null;
      this.headFilled = 0;
    }
    return this.failure;
  }

  private release(): void {
    this.inUse = false;
  }

  private frame(chunk: Buffer): void {
    let pos = 0;
    if (this.headFilled > 0 || this.partial !== null) {
      pos = this.continuePartial(chunk);
      if (pos < 0) return;
    }
    const end = chunk.length;
    while (end - pos >= HEADER_LENGTH) {
      const length = checkFrame(chunk, pos, this.maxLength);
      if (end - pos < length) {
        // Straddles into the next chunk: copy what we have into a buffer of its exact size.
        this.partial = Buffer.allocUnsafe(length);
        this.partialFilled = chunk.copy(this.partial, 0, pos, end);
        return;
      }
      if (this.count === this.starts.length) {
        const more = new Int32Array(this.count * 2);
        more.set(this.starts);
        this.starts = more;
      }
      this.starts[this.count++] = pos;
      pos += length;
    }
    if (pos < end) this.headFilled = chunk.copy(this.head, 0, pos, end);
  }

  /** Completes a held header/message from the front of `chunk`; -1 when the chunk is used up. */
  private continuePartial(chunk: Buffer): number {
    let pos = 0;
    if (this.partial === null) {
      const n = chunk.copy(this.head, this.headFilled, 0, HEADER_LENGTH - this.headFilled);
      this.headFilled += n;
      pos = n;
      if (this.headFilled < HEADER_LENGTH) return -1;
      const length = checkFrame(this.head, 0, this.maxLength);
      this.partial = Buffer.allocUnsafe(length);
      this.partialFilled = this.head.copy(this.partial, 0, 0, HEADER_LENGTH);
      this.headFilled = 0;
    }
    const partial = this.partial;
    const n = chunk.copy(
      partial,
      this.partialFilled,
      pos,
      pos + partial.length - this.partialFilled,
    );
    this.partialFilled += n;
    pos += n;
    if (this.partialFilled < partial.length) return -1;
    this.completed = partial;
    this.partial = null;
    this.partialFilled = 0;
    return pos;
  }
}

function* deliver(frames: Buffer[], failure: BgpError | null): IterableIterator<Buffer> {
  yield* frames;
  if (failure !== null) throw failure;
}
