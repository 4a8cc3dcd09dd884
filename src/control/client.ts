// The CLI side of the control socket: sends one request and waits for its reply. A daemon
// that is not running is reported as DaemonNotRunning, naming the socket path.

import net from 'node:net';
import { CONTROL_PROTOCOL_VERSION, type Command, type Response } from './protocol.js';

export class DaemonNotRunning extends Error {
  constructor(
    readonly socketPath: string,
    cause: string,
  ) {
    super(`podbgp daemon is not running (cannot connect to ${socketPath}: ${cause})`);
    this.name = 'DaemonNotRunning';
  }
}

export class ControlError extends Error {}

export async function request(
  socketPath: string,
  cmd: Command,
  args: Record<string, unknown> = {},
  timeoutMs = 10000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlError(`no answer from the daemon on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, id: 1, cmd, args }) + '\n');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        connected
          ? new ControlError(err.message)
          : new DaemonNotRunning(socketPath, err.code ?? err.message),
      );
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        const res = JSON.parse(buffered.slice(0, nl)) as Response;
        if (res.ok) resolve(res.result);
        else reject(new ControlError(res.error));
      } catch (err) {
        reject(new ControlError(`bad reply from the daemon: ${(err as Error).message}`));
      }
    });
  });
}
