// `podbgp decode`: reads BGP messages as hex text or raw bytes (argument, stdin or file),
// frames them and prints one JSON object per message. No daemon, no sockets: protocol/ only.
// RFC 4271 §4 and §6.1, RFC 7606 §2 (the verdicts shown), RFC 8654 (the maximum length).

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import {
  BgpError,
  describeMessage,
  errorToJson,
  Framer,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
} from '../../../protocol/index.js';
import type { CodecContext } from '../../../protocol/index.js';

export interface DecodeArgs {
  hex?: string;
  raw?: boolean;
  file?: string;
  as2?: boolean;
  'add-path'?: string;
  ebgp?: boolean;
  'extended-message'?: boolean;
}

/** A usage mistake (bad flag value, input that is not hex): exit status 2. */
export class DecodeInputError extends Error {
  override name = 'DecodeInputError';
}

/** Builds the codec context from the flags; defaults: 4-octet AS, no ADD-PATH, iBGP, 4096. */
export function contextFromArgs(args: DecodeArgs): CodecContext {
  const addPath = { ipv4: false, ipv6: false };
  for (const item of (args['add-path'] ?? '').split(',')) {
    const family = item.trim().toLowerCase();
    if (family === '') continue;
    if (family === 'ipv4' || family === 'ipv4-unicast') addPath.ipv4 = true;
    else if (family === 'ipv6' || family === 'ipv6-unicast') addPath.ipv6 = true;
    else throw new DecodeInputError(`--add-path: unknown family "${item}" (use ipv4, ipv6)`);
  }
  return {
    as4: !args.as2,
    addPath,
    extendedMessage: args['extended-message'] === true,
    ebgp: args.ebgp === true,
  };
}

const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * Turns hex text, arriving in pieces, into bytes. Whitespace anywhere is ignored; anything
 * else that is not a hex digit is an error; an odd digit is carried to the next piece.
 */
export class HexReader {
  private carry = '';
  private position = 0;

  push(text: string): Buffer {
    let digits = this.carry;
    for (const ch of text) {
      this.position++;
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\f' || ch === '\v') {
        continue;
      }
      if (!HEX_DIGIT.test(ch)) {
        throw new DecodeInputError(`input is not hex: "${ch}" at character ${this.position}`);
      }
      digits += ch;
    }
    const even = digits.length & ~1;
    this.carry = digits.slice(even);
    return Buffer.from(digits.slice(0, even), 'hex');
  }

  end(): void {
    if (this.carry !== '') throw new DecodeInputError('input has an odd number of hex digits');
  }
}

/**
 * Frames bytes as they arrive and describes each message. Stops at lost framing (bad marker
 * or length) or at input that ends inside a message; both print one JSON line with `error`
 * and give exit status 1.
 */
export class DecodeRun {
  private readonly framer: Framer;
  private offset = 0;
  private stopped = false;

  constructor(
    private readonly ctx: CodecContext,
    private readonly write: (line: string) => void,
  ) {
    this.framer = new Framer({
      maxLength: ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  push(bytes: Buffer): void {
    if (this.stopped) return;
    try {
      for (const frame of this.framer.push(bytes)) {
        this.emit(describeMessage(frame, this.ctx));
        this.offset += frame.length;
      }
    } catch (err) {
      if (!(err instanceof BgpError)) throw err;
      this.stopped = true;
      this.emit({ offset: this.offset, error: errorToJson(err) });
    }
  }

  /** Returns the exit status: 0, or 1 when framing was lost or the input ended mid-message. */
  end(): number {
    if (this.stopped) return 1;
    const left = this.framer.bufferedBytes;
    if (left > 0) {
      this.stopped = true;
      this.emit({
        offset: this.offset,
        error: {
          action: 'truncated',
          reason: `input ends ${left} octets into a message`,
        },
      });
      return 1;
    }
    return 0;
  }

  private emit(obj: Record<string, unknown>): void {
    this.write(JSON.stringify(obj));
  }
}

/** Decodes a whole input held in memory; returns the exit status. */
export function decodeBytes(
  input: Buffer,
  ctx: CodecContext,
  write: (line: string) => void,
): number {
  const run = new DecodeRun(ctx, write);
  run.push(input);
  return run.end();
}

async function readAll(source: Readable, raw: boolean, run: DecodeRun): Promise<void> {
  const hex = new HexReader();
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    run.push(raw ? buf : hex.push(buf.toString('latin1')));
    if (run.isStopped) break;
  }
  if (!raw && !run.isStopped) hex.end();
}

function writeLine(line: string): void {
  process.stdout.write(line + '\n');
}

export async function runDecode(args: DecodeArgs): Promise<number> {
  try {
    const ctx = contextFromArgs(args);
    const run = new DecodeRun(ctx, writeLine);
    if (args.hex !== undefined) {
      const reader = new HexReader();
      const bytes = reader.push(args.hex);
      reader.end();
      run.push(bytes);
    } else if (args.file !== undefined) {
      await readAll(createReadStream(args.file), args.raw === true, run);
    } else {
      if (process.stdin.isTTY) {
        throw new DecodeInputError('no input: give --hex HEX, --file F, or pipe it on stdin');
      }
      await readAll(process.stdin, args.raw === true, run);
    }
    return run.end();
  } catch (err) {
    if (err instanceof DecodeInputError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`podbgp decode: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

export const command: CommandModule<object, DecodeArgs> = {
  command: 'decode',
  describe: 'Decode BGP messages (hex or raw bytes) into JSON lines, one per message',
  builder: (yargs: Argv<object>) =>
    yargs
      .option('hex', {
        type: 'string',
        describe: 'the messages as hex (whitespace ignored); else read stdin or --file',
      })
      .option('raw', {
        type: 'boolean',
        describe: 'stdin or --file holds raw bytes, not hex text',
      })
      .option('file', { type: 'string', describe: 'read from this file instead of stdin' })
      .option('as2', {
        type: 'boolean',
        describe: 'the session did not negotiate 4-octet AS (RFC 6793)',
      })
      .option('add-path', {
        type: 'string',
        describe: 'families where ADD-PATH receive is in effect: ipv4,ipv6 (RFC 7911)',
      })
      .option('ebgp', {
        type: 'boolean',
        describe: 'the sender is an external peer (RFC 7606 §7.5, §7.9, §7.10)',
      })
      .option('extended-message', {
        type: 'boolean',
        describe: 'RFC 8654 was negotiated: messages up to 65535 octets',
      })
      .conflicts('hex', 'file')
      .conflicts('hex', 'raw')
      .example('$0 decode --hex "ffffffffffffffffffffffffffffffff 0013 04"', 'one KEEPALIVE')
      .example('$0 decode --raw --file capture.bin --add-path ipv4', 'raw bytes from a file'),
  handler: async (args) => {
    process.exitCode = await runDecode(args);
  },
};
