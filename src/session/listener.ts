// The one TCP listener for every configured peer: hands each incoming connection to the
// session of its source address, and refuses the rest with Cease / Connection Rejected.
// RFC 4271 §8.2.1.1 (passive connections), RFC 4486 §4 (subcode 5).

import net, { type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { CeaseSubcode, ErrorCode } from '../../protocol/constants.js';
import { encodeMessage } from '../../protocol/message.js';
import { DEFAULT_CONTEXT } from '../../protocol/types.js';

export interface ListenerOptions {
  address: string;
  port: number;
}

/** Strips the IPv4-mapped prefix so "::ffff:192.0.2.1" matches a peer "192.0.2.1". */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class Listener {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: ListenerOptions,
    /** Returns true when a session took the socket. */
    private readonly route: (remote: string, socket: Socket) => boolean,
    private readonly log: Logger,
  ) {}

  /** Starts listening; a port already in use is reported as a clear error. */
  async listen(): Promise<{ address: string; port: number }> {
    const server = net.createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${this.options.address}:${this.options.port}`;
        if (err.code === 'EADDRINUSE') {
          reject(
            new Error(
              `cannot listen on ${where}: the port is already in use (another BGP daemon?)`,
            ),
          );
        } else if (err.code === 'EACCES') {
          reject(
            new Error(
              `cannot listen on ${where}: permission denied (port 179 needs root or CAP_NET_BIND_SERVICE)`,
            ),
          );
        } else if (err.code === 'EADDRNOTAVAIL') {
          reject(
            new Error(`cannot listen on ${where}: the address is not configured on this host`),
          );
        } else {
          reject(new Error(`cannot listen on ${where}: ${err.message}`));
        }
      });
      server.listen({ host: this.options.address, port: this.options.port }, () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') return { address: addr.address, port: addr.port };
    return { address: this.options.address, port: this.options.port };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    const remote = normalizeAddress(socket.remoteAddress);
    socket.on('error', () => undefined);
    if (this.route(remote, socket)) return;
    // Not a configured peer: refuse at once, log, nothing else.
    this.log.warn({ remote }, 'connection from an address that is not a configured peer: rejected');
    const notification = encodeMessage(
      {
        type: 'notification',
        code: ErrorCode.CEASE,
        subcode: CeaseSubcode.CONNECTION_REJECTED,
        data: Buffer.alloc(0),
      },
      DEFAULT_CONTEXT,
    );
    this.sockets.add(socket);
    socket.end(notification);
    const timer = setTimeout(() => socket.destroy(), 1000);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
    });
  }
}
