// Test-only launcher for ExaBGP 4.2 in a network namespace, in the foreground as root, with a
// process API: commands are appended to a file that the API process tails, and everything ExaBGP
// reports (JSON) is appended to another file. Touches nothing outside its temp dir. No RFC.
import { appendFile, chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, spawnProcess, tempDir, waitFor, type ProcessHandle } from './netns.js';
import { missingReason, versionOf } from './probe.js';

/** Name of the API process the config must reference: `api { processes [ podbgp-api ]; ... }`. */
export const EXABGP_API_PROCESS = 'podbgp-api';

export interface ExabgpOptions {
  ns: string;
  /**
   * The neighbor blocks (and anything else) of exabgp.conf. The launcher prepends the
   * `process podbgp-api { ... }` block; reference it from each neighbor (see {@link exabgpNeighbor}).
   */
  config: string;
  /** Addresses ExaBGP listens on for passive neighbors (default: none, active only). */
  listen?: string[];
  port?: number;
  /** Extra `exabgp.x.y=value` environment settings. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** One JSON object ExaBGP wrote to the API process (loosely typed). */
export type ExabgpEvent = Record<string, unknown> & {
  type?: string;
  neighbor?: { address?: { peer?: string; local?: string }; state?: string; message?: unknown };
};

export interface ExabgpHandle {
  daemon: 'exabgp';
  ns: string;
  dir: string;
  configPath: string;
  process: ProcessHandle;
  /** Sends one API command line, e.g. `neighbor 10.0.0.2 announce route 10.9.0.0/24 next-hop self`. */
  send(command: string): Promise<void>;
  /** All JSON events reported so far (non-JSON lines such as `done` are skipped). */
  events(): Promise<ExabgpEvent[]>;
  /** Waits for an event satisfying `match` and returns it. */
  waitEvent(
    match: (e: ExabgpEvent) => boolean,
    timeoutMs?: number,
    what?: string,
  ): Promise<ExabgpEvent>;
  /** True when the last state event for `peer` is `up`. */
  isEstablished(peer: string): Promise<boolean>;
  waitEstablished(peer: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
}

/** The environment that makes ExaBGP run in the foreground as root with no named-pipe CLI. */
export function exabgpEnv(
  o: { listen?: string[]; port?: number; extra?: Record<string, string> } = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    'exabgp.daemon.daemonize': 'false',
    'exabgp.daemon.user': 'root',
    'exabgp.daemon.drop': 'false',
    'exabgp.daemon.pid': '',
    'exabgp.log.destination': 'stdout',
    'exabgp.log.level': 'INFO',
    'exabgp.api.cli': 'false',
    'exabgp.api.ack': 'false',
    'exabgp.api.respawn': 'false',
    'exabgp.api.encoder': 'json',
    'exabgp.tcp.bind': (o.listen ?? []).join(' '),
    'exabgp.tcp.port': String(o.port ?? 179),
    ...(o.extra ?? {}),
  };
}

/** Starts ExaBGP in `opts.ns`; throws with the skip reason if it is not installed. */
export async function startExabgp(cleanup: Cleanup, opts: ExabgpOptions): Promise<ExabgpHandle> {
  const missing = await missingReason('exabgp');
  if (missing) throw new Error(missing);
  const dir = await tempDir(cleanup, 'podbgp-exabgp-');
  const apiIn = join(dir, 'api-in');
  const apiOut = join(dir, 'api-out.jsonl');
  const apiScript = join(dir, 'api.sh');
  await writeFile(apiIn, '');
  await writeFile(apiOut, '');
  // The API process: ExaBGP's reports arrive on its stdin (copied to api-out); its stdout is
  // ExaBGP's command input (fed from api-in). fd 3 keeps stdin for the background copy.
  await writeFile(
    apiScript,
    [
      '#!/bin/sh',
      'exec 3<&0',
      `cat <&3 >> '${apiOut}' &`,
      `exec tail -n +1 -F '${apiIn}' 2>/dev/null`,
      '',
    ].join('\n'),
  );
  await chmod(apiScript, 0o755);
  const configPath = join(dir, 'exabgp.conf');
  await writeFile(
    configPath,
    `process ${EXABGP_API_PROCESS} {\n  run ${apiScript};\n  encoder json;\n}\n\n${opts.config}`,
  );
  const proc = spawnProcess(cleanup, '/usr/sbin/exabgp', [configPath], {
    ns: opts.ns,
    env: exabgpEnv({ listen: opts.listen, port: opts.port, extra: opts.env }),
  });
  const events = async (): Promise<ExabgpEvent[]> => {
    const text = await readFile(apiOut, 'utf8');
    const out: ExabgpEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as ExabgpEvent);
      } catch {
        // a line still being written
      }
    }
    return out;
  };
  await waitFor(
    () => {
      if (!proc.isRunning()) throw new Error(`exabgp exited: ${proc.output().trim()}`);
      return /Welcome to ExaBGP|reactor|new peer|Connected to/i.test(proc.output());
    },
    { timeoutMs: opts.startTimeoutMs ?? 20_000, what: 'ExaBGP to start' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nexabgp output:\n${proc.output()}`);
  });
  const waitEvent = (
    match: (e: ExabgpEvent) => boolean,
    timeoutMs = 30_000,
    what = 'ExaBGP event',
  ) => waitFor(async () => (await events()).find(match), { timeoutMs, what });
  const isEstablished = async (peer: string): Promise<boolean> => {
    const states = (await events()).filter(
      (e) => e.type === 'state' && e.neighbor?.address?.peer === peer,
    );
    return states.at(-1)?.neighbor?.state === 'up';
  };
  return {
    daemon: 'exabgp',
    ns: opts.ns,
    dir,
    configPath,
    process: proc,
    send: (command) => appendFile(apiIn, `${command}\n`),
    events,
    waitEvent,
    isEstablished,
    waitEstablished: async (peer, timeoutMs = 60_000) => {
      await waitFor(() => isEstablished(peer), { timeoutMs, what: `ExaBGP neighbor ${peer} up` });
    },
    stop: () => proc.stop(),
    version: () => versionOf('exabgp'),
  };
}

export interface ExabgpNeighborOptions {
  address: string;
  localAddress: string;
  routerId: string;
  asn: number;
  peerAsn: number;
  holdTime?: number;
  passive?: boolean;
  families?: string[];
  /** Lines inside `capability { }`, e.g. `route-refresh;`, `graceful-restart 120;`. */
  capabilities?: string[];
  /** Lines inside `static { }`, e.g. `route 10.9.0.0/24 next-hop self community [65000:1];`. */
  routes?: string[];
  extra?: string[];
}

/** One neighbor block wired to the API process (receives parsed JSON of every message kind). */
export function exabgpNeighbor(o: ExabgpNeighborOptions): string {
  const families = o.families ?? ['ipv4 unicast', 'ipv6 unicast'];
  return [
    `neighbor ${o.address} {`,
    `  router-id ${o.routerId};`,
    `  local-address ${o.localAddress};`,
    `  local-as ${o.asn};`,
    `  peer-as ${o.peerAsn};`,
    `  hold-time ${o.holdTime ?? 90};`,
    ...(o.passive ? ['  passive true;'] : []),
    `  family { ${families.map((f) => `${f};`).join(' ')} }`,
    `  capability { ${(o.capabilities ?? ['route-refresh;']).join(' ')} }`,
    `  api { processes [ ${EXABGP_API_PROCESS} ]; neighbor-changes; receive { parsed; update; notification; open; refresh; } }`,
    ...(o.routes && o.routes.length > 0
      ? [`  static {`, ...o.routes.map((r) => `    ${r}`), '  }']
      : []),
    ...(o.extra ?? []).map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n');
}

/**
 * ExaBGP's generic attribute syntax, for raw (possibly malformed) path attributes in `announce
 * route` commands or static routes. A code ExaBGP knows (1 ORIGIN, 2 AS_PATH, ...) REPLACES the
 * attribute ExaBGP would have built, so `exabgpAttribute(1, 0x40, '07')` sends ORIGIN 7 (RFC 7606
 * §7.1 treat-as-withdraw) and `exabgpAttribute(2, 0x40, '0201')` a truncated AS_PATH. ExaBGP 4.2 has
 * no command to send whole raw messages; use a plain TCP speaker for broken headers.
 */
export function exabgpAttribute(code: number, flags: number, hex: string): string {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`exabgpAttribute: not hex: ${hex}`);
  // ExaBGP needs at least one data byte after 0x; an empty value cannot be expressed.
  if (hex.length === 0)
    throw new Error('exabgpAttribute: ExaBGP cannot send an empty attribute value');
  return `attribute [ 0x${code.toString(16).padStart(2, '0')} 0x${flags.toString(16).padStart(2, '0')} 0x${hex} ]`;
}
