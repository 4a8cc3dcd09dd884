// The lab's state file: what `lab up` made (namespaces, pids, sockets, logs) so that
// `lab status` and `lab down` work from another process. Reads and writes one JSON file;
// must not start or stop anything. No RFC.

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;

export type TorDaemon = 'frr' | 'bird';

export interface LabProcess {
  /** What it is: `tor:zebra`, `tor:bgpd`, `tor:bird`, `node:n1`. */
  role: string;
  pid: number;
  /** The namespace it runs in (checked before it is signalled, against pid reuse). */
  ns: string;
  logPath: string;
}

export interface LabState {
  version: typeof STATE_VERSION;
  createdAt: string;
  prefix: string;
  stateDir: string;
  /** The plan's size, to rebuild the same plan in `status` and `down`. */
  size: { nodesPerSegment: number; podsPerNode: number };
  tor: TorDaemon;
  /** Whether the kernel had IPIP when the lab was made (decides the cross-segment path). */
  ipip: boolean;
  cli: { argv: string[]; cwd: string };
  namespaces: string[];
  processes: LabProcess[];
  /** Files the lab wrote outside the state dir (none today; kept for `down`). */
  files: string[];
}

export const statePath = (stateDir: string): string => join(stateDir, STATE_FILE);

export async function readState(stateDir: string): Promise<LabState | null> {
  let text: string;
  try {
    text = await readFile(statePath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const s = JSON.parse(text) as LabState;
  if (s.version !== STATE_VERSION) {
    throw new Error(`${statePath(stateDir)} has version ${String(s.version)}, expected 1`);
  }
  return s;
}

/** Writes atomically (temp file + rename) so a reader never sees half a file. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(state.stateDir, { recursive: true, mode: 0o755 });
  const tmp = `${statePath(state.stateDir)}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, statePath(state.stateDir));
}

export async function removeStateDir(stateDir: string): Promise<void> {
  await rm(stateDir, { recursive: true, force: true });
}
