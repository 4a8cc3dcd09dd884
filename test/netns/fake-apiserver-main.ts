// The test fake API server (test/k8s/fake-apiserver.ts) as a standalone process, for netns tests
// whose daemons must reach it over TCP from other namespaces. Not a test; never used by src/.
// The fake listens on 127.0.0.1 only, so a plain TCP relay on --listen HOST:PORT forwards to it.
//
// Usage: node --import tsx test/netns/fake-apiserver-main.ts --listen 192.168.78.254:6443
// Control: one JSON request per line on stdin, one JSON reply per line on stdout:
//   {"id":1,"op":"create","resource":"nodes","object":{...}}   -> {"id":1,"ok":true,"result":{...}}
//   ops: create, delete {resource,name}, get {resource,name}, stop, start, requests, watches.
// "stop" cuts every connection and closes the listener (an API server crash); "start" listens
// again on the same port with the same objects and history. The process exits when stdin ends.

import net from 'node:net';
import { createInterface } from 'node:readline';
import { FakeApiServer, type KObject } from '../k8s/fake-apiserver.js';
import { rbacGrants } from '../k8s/harness.js';

type Resource = 'nodes' | 'bgppeers';

interface Request {
  id: number;
  op: string;
  resource?: Resource;
  name?: string;
  object?: KObject;
}

function parseListen(argv: string[]): { host: string; port: number } {
  const i = argv.indexOf('--listen');
  const value = i >= 0 ? argv[i + 1] : undefined;
  const m = value ? /^(.+):(\d+)$/.exec(value) : null;
  if (!m) throw new Error('usage: fake-apiserver-main.ts --listen HOST:PORT');
  return { host: m[1], port: Number(m[2]) };
}

class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly listen: { host: string; port: number },
    private readonly target: () => { host: string; port: number },
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const t = this.target();
      const upstream = net.connect(t.port, t.host);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

async function main(): Promise<void> {
  const listen = parseListen(process.argv.slice(2));
  const fake = new FakeApiServer({ allow: rbacGrants() });
  await fake.start();
  const backend = new URL(fake.url);
  const relay = new Relay(listen, () => ({
    host: backend.hostname,
    port: Number(backend.port),
  }));
  await relay.start();

  const reply = (o: unknown): void => {
    process.stdout.write(JSON.stringify(o) + '\n');
  };
  const handle = async (r: Request): Promise<unknown> => {
    const resource = r.resource ?? 'nodes';
    switch (r.op) {
      case 'create':
        if (!r.object) throw new Error('create needs an object');
        return fake.create(resource, r.object);
      case 'delete':
        fake.delete(resource, String(r.name));
        return null;
      case 'get':
        return fake.get(resource, String(r.name)) ?? null;
      case 'stop':
        await relay.stop();
        await fake.stop();
        return null;
      case 'start':
        await fake.start();
        await relay.start();
        return null;
      case 'requests':
        return fake.requests;
      case 'watches':
        return fake.openWatches(r.resource);
      default:
        throw new Error(`unknown op ${r.op}`);
    }
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch (err) {
      reply({ id: -1, ok: false, error: `bad request: ${(err as Error).message}` });
      return;
    }
    handle(req).then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err: unknown) => reply({ id: req.id, ok: false, error: String(err) }),
    );
  });
  lines.on('close', () => {
    void relay.stop().then(() => fake.stop().then(() => process.exit(0)));
  });
  reply({ id: 0, ok: true, result: { listening: `${listen.host}:${listen.port}` } });
}

main().catch((err: unknown) => {
  process.stderr.write(`fake-apiserver-main: ${String(err)}\n`);
  process.exit(1);
});
