// `podbgp config check FILE`: exit 0 with a summary for a valid file, exit 2 with every error
// for an invalid one; the environment's overrides apply unless --ignore-env.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_INVALID_CONFIG, runConfigCheck } from '../../src/cli/commands/config.js';

const dir = mkdtempSync(join(tmpdir(), 'pbn-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const good = write(
  'good.yaml',
  'node: {name: vms71, asn: 64512}\npools: [{cidr: 10.244.0.0/16}]\npeers: [{address: 192.168.30.1, asn: 65001}]\n',
);
const bad = write(
  'bad.yaml',
  'node: {asn: 0}\npeers:\n  - {address: 10.0.0.1, asn: 1, holdTime: 2}\n  - {address: 10.0.0.1, asn: 1, hold: 9}\n',
);

function run(args: Parameters<typeof runConfigCheck>[0], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runConfigCheck(args, env, {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('valid file: exit 0 and a summary', async (t) => {
  const r = run({ file: good });
  t.equal(r.code, 0);
  t.match(r.out, /: OK/);
  t.match(r.out, /node vms71 AS 64512/);
  t.match(r.out, /peers: 1 \(0 iBGP, 1 eBGP\)/);
  t.match(r.out, /10\.244\.0\.0\/16 \/26 ipip Always/);
});

t.test('invalid file: exit 2 and every error', async (t) => {
  const r = run({ file: bad });
  t.equal(r.code, EXIT_INVALID_CONFIG);
  t.equal(r.code, 2);
  t.match(r.err, /4 errors/);
  for (const re of [
    /node\.asn: got 0/,
    /peers\[0\]\.holdTime: got 2/,
    /peers\[1\]\.hold: unknown key; did you mean "holdTime"/,
    /peers\[1\]\.address: got "10\.0\.0\.1"; duplicate peer/,
  ]) {
    t.match(r.err, re);
  }
  t.match(r.err, /bad\.yaml:1:\d+: node\.asn/, 'errors carry file:line:col');
  const j = run({ file: bad, json: true });
  t.equal(j.code, 2);
  t.equal(JSON.parse(j.out).errors.length, 4);
});

t.test('the environment applies unless --ignore-env', async (t) => {
  t.equal(run({ file: good }, { AS: '0' }).code, 2);
  t.match(run({ file: good }, { AS: '0' }).err, /environment AS: node\.asn/);
  t.equal(run({ file: good, 'ignore-env': true }, { AS: '0' }).code, 0);
  t.match(run({ file: good, print: true }, { AS: '65010' }).out, /asn: 65010/);
});

t.test('a missing file exits 2', async (t) => {
  const r = run({ file: join(dir, 'nope.yaml') });
  t.equal(r.code, 2);
  t.match(r.err, /cannot read the config file/);
});

t.test('through yargs in a child process', async (t) => {
  const mod = fileURLToPath(new URL('../../src/cli/commands/config.ts', import.meta.url));
  // With -e, process.argv holds the node binary and then the arguments.
  const script = `import yargs from 'yargs'; import { command } from ${JSON.stringify(mod)};
await yargs(process.argv.slice(1)).scriptName('podbgp').command(command).strict().demandCommand(1).parseAsync();`;
  const exec = (file: string) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, 'config', 'check', file],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
        timeout: 60_000,
      },
    );
  const okRun = exec(good);
  t.equal(okRun.status, 0, okRun.stderr);
  t.match(okRun.stdout, /OK/);
  const badRun = exec(bad);
  t.equal(badRun.status, 2);
  t.match(badRun.stderr, /peers\[0\]\.holdTime/);
});
