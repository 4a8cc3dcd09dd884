// The daemon side of the control socket: a unix socket (mode 0600) that answers versioned
// JSON-lines requests by calling the handlers the daemon registers. Knows nothing of BGP.

import fs from 'node:fs';
import net, { type Server, type Socket } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { CONTROL_PROTOCOL_VERSION, type Command, type Request, type Response } from './protocol.js';

export type Handler = (args: Record<string, unknown>) => unknown | Promise<unknown>;

/** A request line longer than this is refused before it is parsed. */
const MAX_REQUEST = 64 * 1024;

export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly handlers: Partial<Record<Command, Handler>>,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o755 });
    await this.removeStale();
    const server = net.createServer((socket) => this.onClient(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o600);
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  /** A socket file left by a daemon that died is removed; a live daemon's is an error. */
  private async removeStale(): Promise<void> {
    if (!fs.existsSync(this.socketPath)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const probe = net.connect(this.socketPath);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (alive) throw new Error(`another podbgp daemon is already listening on ${this.socketPath}`);
    fs.rmSync(this.socketPath, { force: true });
  }

  private onClient(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST) {
        socket.end(
          JSON.stringify({
            v: CONTROL_PROTOCOL_VERSION,
            id: 0,
            ok: false,
            error: 'request too large',
          }) + '\n',
        );
        return;
      }
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== '') void this.answer(socket, line);
      }
    });
  }

  private async answer(socket: Socket, line: string): Promise<void> {
    let id = 0;
    let response: Response;
    try {
      const req = JSON.parse(line) as Request;
      id = typeof req.id === 'number' ? req.id : 0;
      if (req.v !== CONTROL_PROTOCOL_VERSION) {
        throw new Error(
          `unsupported protocol version ${String(req.v)} (this daemon speaks ${CONTROL_PROTOCOL_VERSION})`,
        );
      }
      const handler = this.handlers[req.cmd];
      if (!handler) throw new Error(`unknown command ${String(req.cmd)}`);
      const result = await handler(req.args ?? {});
      response = { v: CONTROL_PROTOCOL_VERSION, id, ok: true, result };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.debug({ err: message }, 'control request failed');
      response = { v: CONTROL_PROTOCOL_VERSION, id, ok: false, error: message };
    }
    if (!socket.destroyed) socket.write(JSON.stringify(response) + '\n');
  }
}
