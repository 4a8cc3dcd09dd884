// Smoke test of the VM harness: Debian's kernel boots under QEMU, runs a script from the repo's
// directory with the host's Node.js, and reports exit code, stdout, stderr and timeouts.
// It does not test podbgp itself. No RFC applies. Missing QEMU or busybox FAILS (issue #8).
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GUEST_JOB_DIR,
  VmError,
  missingVmPrerequisites,
  prepareVmImage,
  repoRoot,
  runInVm,
} from './harness.js';

const missing = missingVmPrerequisites();
const notRoot = process.getuid?.() !== 0;

if (missing.length > 0 || notRoot) {
  // IPIP must be proven on a real kernel: a host that cannot run the VM fails the suite.
  t.fail(
    [
      notRoot ? 'the VM tests must run as root (CI runs them as root)' : '',
      missing.length
        ? `missing on the host: ${missing.join(', ')}; run scripts/install-deps.sh`
        : '',
    ]
      .filter(Boolean)
      .join('; '),
  );
} else {
  t.test('boots the Debian kernel and runs a script from the repo', async (t) => {
    const image = await prepareVmImage();
    t.ok(existsSync(image.kernel), `kernel ${image.kernel} cached`);
    t.ok(existsSync(join(image.modulesDir, 'modules.dep')), 'modules.dep generated');

    const probe = join(repoRoot, '.cache', `vm-write-probe-${process.pid}`);
    const tricky = `a b'c"$HOME`;
    const res = await runInVm({
      command: [
        'uname -r',
        'pwd',
        'printf "%s\\n" "$PBV_VALUE"',
        'node -p process.version',
        'echo to-stderr >&2',
        // Writes go to the guest's tmpfs overlay, never to the host's files.
        `echo x > ${probe} && cat ${probe}`,
        'exit 7',
      ].join('\n'),
      env: { PBV_VALUE: tricky },
      timeoutMs: 120_000,
    });
    t.comment(`boot ${res.bootMs} ms, command ${res.commandMs} ms, total ${res.totalMs} ms`);

    t.equal(res.exitCode, 7, 'the exit code of the script comes back');
    const lines = res.stdout.split('\n');
    t.equal(lines[0], image.kernelVersion, 'the guest runs the unpacked Debian kernel');
    t.not(lines[0], release(), 'the guest kernel is not the host kernel');
    t.equal(res.kernelVersion, image.kernelVersion, 'the result names the kernel version');
    t.equal(lines[1], repoRoot, 'the script runs in the repo root at the host path');
    t.equal(lines[2], tricky, 'env values pass through unchanged');
    t.equal(lines[3], process.version, "the host's node runs in the guest");
    t.equal(lines[4], 'x', 'the guest can write over the read-only host root');
    t.equal(res.stderr, 'to-stderr\n', 'stderr is kept apart from stdout');
    t.notOk(existsSync(probe), 'the host file system is untouched');
    t.ok(res.bootMs > 0 && res.bootMs <= res.totalMs, 'boot time measured');
  });

  t.test('loads modules; a working directory under the host /tmp stays visible', async (t) => {
    // The guest mounts a fresh /tmp, yet a clone of the repo could live under the host's.
    const hostDir = await mkdtemp(join(tmpdir(), 'pbv-cwd-'));
    t.teardown(() => rm(hostDir, { recursive: true, force: true }));
    await writeFile(join(hostDir, 'marker'), 'from-host-tmp\n');
    const res = await runInVm({
      cwd: hostDir,
      command: [
        'set -e',
        'grep -q "^ipip " /proc/modules && echo ipip-before || echo no-ipip-before',
        'modprobe ipip',
        'ip -json link show tunl0',
        // request_module: creating a veth pair loads veth.ko through the guest's modprobe.
        'ip link add pbv-a type veth peer name pbv-b',
        'grep -E "^(ipip|veth) " /proc/modules | cut -d" " -f1 | sort',
        `test "$(cat /proc/sys/kernel/modprobe)" = /.vm/bin/modprobe`,
        `test -d ${GUEST_JOB_DIR}`,
        'cat marker',
      ].join('\n'),
      timeoutMs: 120_000,
    });
    t.equal(res.exitCode, 0, `script succeeded: ${res.stderr}`);
    const lines = res.stdout.trim().split('\n');
    t.equal(lines[0], 'no-ipip-before', 'ipip is not loaded at boot');
    const link = JSON.parse(lines[1]) as { ifname: string; link_type: string }[];
    t.equal(link[0].ifname, 'tunl0', 'tunl0 exists after modprobe ipip');
    t.equal(link[0].link_type, 'ipip', 'tunl0 is an ipip device');
    t.same(lines.slice(2, 4), ['ipip', 'veth'], 'ipip and veth modules are loaded');
    t.equal(lines[4], 'from-host-tmp', 'the working directory under the host /tmp is visible');
  });

  t.test('a QEMU that cannot start is reported with its reason', async (t) => {
    // More CPUs than any QEMU machine type allows: QEMU refuses to start.
    const err = await runInVm({ command: 'true', timeoutMs: 60_000, cpus: 100_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof VmError, 'rejects with a VmError');
    t.equal((err as VmError).code, 'VM_START', 'error code VM_START');
    t.match((err as VmError).message, /qemu stderr[\s\S]*CPU/i, "the error carries QEMU's reason");
  });

  t.test('a guest kernel crash is reported, not waited for', async (t) => {
    // sysrq "c" panics the kernel; panic=-1 and -no-reboot then end QEMU.
    const err = await runInVm({
      command: 'echo from-the-script; echo c > /proc/sysrq-trigger; sleep 600',
      timeoutMs: 120_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof VmError, 'rejects with a VmError');
    t.equal((err as VmError).code, 'VM_NO_RESULT', 'error code VM_NO_RESULT');
    t.equal((err as VmError).stdout, 'from-the-script\n', 'the output written so far is kept');
    t.match((err as VmError).console, /Kernel panic|sysrq/i, 'the console shows the crash');
  });

  t.test('a hung guest is killed at the timeout and its files removed', async (t) => {
    const parent = await mkdtemp(join(tmpdir(), 'pbv-timeout-'));
    t.teardown(() => rm(parent, { recursive: true, force: true }));
    const started = Date.now();
    const err = await runInVm({ command: 'sleep 600', timeoutMs: 8_000, tmpDir: parent }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = Date.now() - started;
    t.ok(err instanceof VmError, 'rejects with a VmError');
    t.equal((err as VmError).code, 'VM_TIMEOUT', 'error code VM_TIMEOUT');
    t.ok(took < 8_000 + 30_000, `QEMU stopped soon after the deadline (${took} ms)`);
    t.same(await processesMentioning(parent), [], 'no QEMU process is left running');
    t.same(await readdir(parent), [], 'the job directory is cleaned up');
  });
}

/** PIDs of processes whose command line contains `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}
