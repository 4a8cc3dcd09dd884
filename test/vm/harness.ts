// The VM test harness: runs a bash script as root inside Debian's generic kernel under QEMU
// (software emulation), with the host's root filesystem shared read-only, and returns its exit
// code and output. It must never write to host files outside its own job dir and .cache/vm. No RFC.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root on the host; the guest sees it at the same path. */
export const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Where the job directory (command, output, exit code) is mounted inside the guest. */
export const GUEST_JOB_DIR = '/.vm/job';

/** Where the guest's busybox and its module tools (modprobe, lsmod, ...) live; last on PATH. */
export const GUEST_TOOLS_DIR = '/.vm/bin';

const QEMU = 'qemu-system-x86_64';
const READY = '@@PODBGP-VM-READY@@';
const FAIL = '@@PODBGP-VM-FAIL@@';
const PREPARE_TIMEOUT_MS = 10 * 60_000;
// Seconds the `timeout` wrapper grants QEMU beyond the harness's own deadline: it only matters
// if this Node process dies without killing QEMU.
const WRAPPER_GRACE_S = 15;
const KILL_GRACE_MS = 5_000;

export interface VmImage {
  /** `uname -r` of the guest kernel, e.g. `6.1.0-56-amd64`; also the cache key. */
  kernelVersion: string;
  /** The kernel QEMU boots (the uncompressed vmlinux when it could be extracted). */
  kernel: string;
  initrd: string;
  /** The unpacked package's /lib/modules/<version>, bound there inside the guest. */
  modulesDir: string;
}

export interface VmRunOptions {
  /** A bash script, run as root in the guest by `/bin/bash`, stdin from /dev/null. */
  command: string;
  /** Hard limit for boot plus command; QEMU is killed when it passes. */
  timeoutMs: number;
  /** Extra environment for the script (added to PATH, HOME and PODBGP_IN_VM=1). */
  env?: Record<string, string>;
  /** Guest memory in MiB (default 1024). The guest's writable overlay lives in it. */
  memoryMb?: number;
  /** Guest CPUs (default 1). */
  cpus?: number;
  /** Working directory of the script in the guest (default: the repository root). */
  cwd?: string;
  /** Parent directory for the temporary job directory (default: os.tmpdir()). */
  tmpDir?: string;
}

export interface VmRunResult {
  /** The script's exit status (128+N when killed by signal N). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The serial console: kernel warnings and the boot stages' messages. */
  console: string;
  kernelVersion: string;
  /** From starting QEMU to the guest being ready to run the script. */
  bootMs: number;
  /** From the guest being ready to QEMU's exit (the script plus power-off). */
  commandMs: number;
  /** From starting QEMU to its exit. */
  totalMs: number;
}

export type VmErrorCode =
  | 'VM_PREREQ' // a host command the harness needs is missing
  | 'VM_PREPARE' // scripts/vm-prepare.sh failed (download, unpack, initramfs)
  | 'VM_START' // QEMU or the guest's boot stages failed before the script started
  | 'VM_TIMEOUT' // timeoutMs passed; QEMU was killed
  | 'VM_NO_RESULT'; // the guest stopped without recording the script's exit code

export class VmError extends Error {
  constructor(
    readonly code: VmErrorCode,
    message: string,
    readonly console = '',
    readonly stdout = '',
    readonly stderr = '',
  ) {
    super(`${code}: ${message}${console ? `\n--- VM console (tail) ---\n${tail(console)}` : ''}`);
    this.name = 'VmError';
  }
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** True when `cmd` is an executable on the host's PATH (the guest shares the host's root). */
export function hostHasCommand(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * Names what the harness needs but the host lacks, each with the Debian package providing it.
 * Empty when everything is there.
 */
export function missingVmPrerequisites(): string[] {
  const needs: [string, string][] = [
    [QEMU, 'qemu-system-x86'],
    ['busybox', 'busybox-static'],
    ['apt-get', 'apt'],
    ['dpkg-deb', 'dpkg'],
    ['flock', 'util-linux'],
    ['timeout', 'coreutils'],
  ];
  const missing = needs
    .filter(([cmd]) => !hostHasCommand(cmd))
    .map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`);
  if (!existsSync('/bin/bash')) missing.push('/bin/bash (Debian package bash)');
  return missing;
}

let imagePromise: Promise<VmImage> | undefined;

/**
 * Fetches and caches the kernel and builds the initramfs (scripts/vm-prepare.sh), once per
 * process; later runs reuse .cache/vm/<kernel version>/.
 */
export function prepareVmImage(): Promise<VmImage> {
  imagePromise ??= runPrepare().catch((err: unknown) => {
    imagePromise = undefined;
    throw err;
  });
  return imagePromise;
}

function runPrepare(): Promise<VmImage> {
  const missing = missingVmPrerequisites();
  if (missing.length > 0) {
    return Promise.reject(new VmError('VM_PREREQ', `missing on the host: ${missing.join(', ')}`));
  }
  const script = join(repoRoot, 'scripts', 'vm-prepare.sh');
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [script],
      { timeout: PREPARE_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new VmError('VM_PREPARE', `${script} failed: ${err.message}\n${stderr}`));
          return;
        }
        const vars = new Map<string, string>();
        for (const line of stdout.split('\n')) {
          const eq = line.indexOf('=');
          if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
        }
        const kernelVersion = vars.get('VM_KVER');
        const kernel = vars.get('VM_KERNEL');
        const initrd = vars.get('VM_INITRD');
        const modulesDir = vars.get('VM_MODULES');
        if (!kernelVersion || !kernel || !initrd || !modulesDir) {
          reject(new VmError('VM_PREPARE', `${script} printed no image paths:\n${stdout}`));
          return;
        }
        resolve({ kernelVersion, kernel, initrd, modulesDir });
      },
    );
  });
}

/** Quotes a string for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

// QEMU's option syntax: a comma inside a value is written twice.
function qemuValue(value: string): string {
  return value.replaceAll(',', ',,');
}

function jobScript(opts: VmRunOptions): string {
  const env: Record<string, string> = {
    PATH: [dirname(process.execPath), process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin']
      .concat(GUEST_TOOLS_DIR)
      .join(':'),
    HOME: '/root',
    PODBGP_IN_VM: '1',
    ...opts.env,
  };
  const lines = ['# Written by test/vm/harness.ts: environment and directory for command.sh.'];
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad env name ${name}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  lines.push(`cd ${shellQuote(opts.cwd ?? repoRoot)} || exit 125`);
  lines.push(`exec /bin/bash ${GUEST_JOB_DIR}/command.sh`);
  return lines.join('\n') + '\n';
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

const live = new Set<ReturnType<typeof spawn>>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // If the test process ends while a guest runs, take QEMU down with it.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

/**
 * Boots the VM, runs `opts.command`, and resolves with its exit code and output. Rejects with a
 * VmError when the VM cannot run the command to completion (see VmErrorCode). The job directory
 * is removed in every case.
 */
export async function runInVm(opts: VmRunOptions): Promise<VmRunResult> {
  const image = await prepareVmImage();
  const jobDir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'podbgp-vm-'));
  try {
    await writeFile(
      join(jobDir, 'config'),
      [
        `VM_MODULES=${shellQuote(image.modulesDir)}`,
        'VM_SHELL=/bin/bash',
        'VM_HOSTNAME=podbgp-vm',
        // The guest gets fresh /tmp and /run; these host paths stay visible if under them.
        `VM_KEEP_PATHS=${shellQuote([repoRoot, opts.cwd ?? repoRoot].join(':'))}`,
      ].join('\n') + '\n',
    );
    await writeFile(join(jobDir, 'run.sh'), jobScript(opts));
    await writeFile(
      join(jobDir, 'command.sh'),
      opts.command.endsWith('\n') ? opts.command : `${opts.command}\n`,
    );
    return await boot(image, jobDir, opts);
  } finally {
    await rm(jobDir, { recursive: true, force: true });
  }
}

function qemuArgs(image: VmImage, jobDir: string, opts: VmRunOptions): string[] {
  return [
    // KVM is unusable here and letting QEMU probe it first hangs: software emulation only.
    '-accel',
    'tcg',
    '-machine',
    'q35',
    '-cpu',
    'max',
    '-m',
    String(opts.memoryMb ?? 1024),
    '-smp',
    String(opts.cpus ?? 1),
    '-nodefaults',
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-append',
    'console=ttyS0 panic=-1 loglevel=4 mitigations=off',
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs',
    `local,path=${qemuValue(jobDir)},mount_tag=job,security_model=none,multidevs=remap`,
  ];
}

function boot(image: VmImage, jobDir: string, opts: VmRunOptions): Promise<VmRunResult> {
  installExitHook();
  const wrapperSeconds = Math.ceil(opts.timeoutMs / 1000) + WRAPPER_GRACE_S;
  const started = Date.now();
  // `timeout` kills QEMU even if this process is killed before it can.
  const child = spawn(
    'timeout',
    ['--signal=KILL', `${wrapperSeconds}s`, QEMU, ...qemuArgs(image, jobDir, opts)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);

  const consoleChunks: Buffer[] = [];
  const qemuErr: Buffer[] = [];
  let readyAt: number | undefined;
  let seen = '';
  child.stdout.on('data', (chunk: Buffer) => {
    consoleChunks.push(chunk);
    if (readyAt === undefined) {
      seen = (seen + chunk.toString('latin1')).slice(-4096);
      if (seen.includes(READY)) readyAt = Date.now();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => qemuErr.push(chunk));

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM'); // `timeout` passes it on to QEMU
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  }, opts.timeoutMs);

  return new Promise((resolve, reject) => {
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      live.delete(child);
      const endedAt = Date.now();
      const consoleText = Buffer.concat(consoleChunks).toString('utf8');
      const stderrText = Buffer.concat(qemuErr).toString('utf8');
      void collect(jobDir).then(({ exitCode, stdout, stderr }) => {
        const fullConsole = stderrText
          ? `${consoleText}\n--- qemu stderr ---\n${stderrText}`
          : consoleText;
        if (spawnError) {
          reject(
            new VmError('VM_START', `cannot start ${QEMU}: ${spawnError.message}`, fullConsole),
          );
        } else if (exitCode !== undefined && readyAt !== undefined) {
          resolve({
            exitCode,
            stdout,
            stderr,
            console: fullConsole,
            kernelVersion: image.kernelVersion,
            bootMs: readyAt - started,
            commandMs: endedAt - readyAt,
            totalMs: endedAt - started,
          });
        } else if (timedOut) {
          const stage = readyAt === undefined ? 'while booting' : 'while the command ran';
          reject(
            new VmError(
              'VM_TIMEOUT',
              `no result after ${opts.timeoutMs} ms (${stage}); QEMU killed`,
              fullConsole,
              stdout,
              stderr,
            ),
          );
        } else if (readyAt === undefined || consoleText.includes(FAIL)) {
          const how = signal ? `signal ${signal}` : `exit ${code}`;
          reject(
            new VmError(
              'VM_START',
              `the guest did not reach the command (${QEMU} ${how})`,
              fullConsole,
            ),
          );
        } else {
          reject(
            new VmError(
              'VM_NO_RESULT',
              `the guest stopped without an exit code (exit ${code})`,
              fullConsole,
              stdout,
              stderr,
            ),
          );
        }
      }, reject);
    });
  });
}

async function collect(
  jobDir: string,
): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  const [rc, stdout, stderr] = await Promise.all([
    readIfPresent(join(jobDir, 'exit-code')),
    readIfPresent(join(jobDir, 'stdout')),
    readIfPresent(join(jobDir, 'stderr')),
  ]);
  const parsed = rc === undefined ? NaN : Number.parseInt(rc.trim(), 10);
  return {
    exitCode: Number.isInteger(parsed) ? parsed : undefined,
    stdout: stdout ?? '',
    stderr: stderr ?? '',
  };
}
