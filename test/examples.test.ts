// The examples agree with each other: every YAML file parses; the config files (standalone,
// the ConfigMap's embedded config, with the DaemonSet's environment) pass the config loader;
// the DaemonSet mounts what the ConfigMap and RBAC define; and the ToR configs use the ASNs,
// addresses, node subnet and pod pool of the documented setup, checked by FRR and BIRD too.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfig, type PodbgpConfig } from '../src/config/index.js';
import { cidrContains, parseCidr, parseIp } from '../src/node/addr.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ex = (f: string) => join(root, 'examples', f);
const read = (f: string) => readFileSync(ex(f), 'utf8');

type Obj = Record<string, unknown>;
const docs = (f: string): Obj[] => {
  const all = parseAllDocuments(read(f));
  for (const d of all) if (d.errors.length) throw new Error(`${f}: ${d.errors[0].message}`);
  return all.map((d) => d.toJS() as Obj).filter((d) => d !== null);
};
const byKind = (list: Obj[], kind: string): Obj => {
  const found = list.find((d) => d.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return found;
};
// Walks a path of keys through plain objects (test helper, untyped YAML).
const at = (o: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);

function loadOk(t: Test, text: string, env: Record<string, string>, name: string) {
  const r = parseConfig(text, env, name);
  if (!r.ok) {
    t.fail(`${name} is invalid: ${JSON.stringify(r.errors)}`);
    return null;
  }
  t.pass(`${name} passes the config loader`);
  return r.config as PodbgpConfig;
}

const configMap = byKind(docs('configmap.yaml'), 'ConfigMap');
const daemonSet = byKind(docs('daemonset.yaml'), 'DaemonSet');
const container = at(daemonSet, 'spec', 'template', 'spec', 'containers', 0) as Obj;
const dsEnv = Object.fromEntries(
  (container.env as { name: string; value?: string }[])
    .filter((e) => e.value !== undefined)
    .map((e) => [e.name, e.value as string]),
);
// NODENAME comes from the downward API; stand in a node name for the loader.
const podEnv = { ...dsEnv, NODENAME: 'node-a1' };
const configText = at(configMap, 'data', 'podbgp.yaml') as string;

t.test('every YAML example parses', async (t) => {
  for (const f of ['configmap.yaml', 'daemonset.yaml', 'rbac.yaml', 'crd-bgppeer.yaml']) {
    if (existsSync(ex(f))) t.ok(docs(f).length > 0, `${f} has documents`);
  }
  for (const f of ['podbgp.yaml', 'standalone.yaml']) {
    if (!existsSync(ex(f))) continue;
    t.type(parseYaml(read(f)), 'object', `${f} is a mapping`);
    loadOk(t, read(f), {}, f);
  }
});

t.test('the ConfigMap config is valid with the DaemonSet environment', async (t) => {
  t.type(configText, 'string', 'the ConfigMap has data.podbgp.yaml');
  const cfg = loadOk(t, configText, podEnv, 'configmap podbgp.yaml');
  if (!cfg) return;
  t.equal(cfg.node.name, 'node-a1', 'NODENAME names the node');
  t.equal(cfg.node.ipv4.autodetectionMethod, dsEnv.IP_AUTODETECTION_METHOD, 'env method applies');
  t.equal(cfg.kubernetes.enabled, true, 'Kubernetes mode');
  t.equal(cfg.pools.length, 1, 'one pool');
  t.equal(cfg.pools[0].ipipMode, 'CrossSubnet');
});

t.test('the DaemonSet runs what the ConfigMap and RBAC define', async (t) => {
  const spec = at(daemonSet, 'spec', 'template', 'spec') as Obj;
  t.equal(spec.hostNetwork, true, 'hostNetwork');
  const caps = at(container, 'securityContext', 'capabilities', 'add') as string[];
  t.ok(caps.includes('NET_ADMIN') && caps.includes('NET_RAW'), 'NET_ADMIN and NET_RAW');
  t.ok(caps.includes('NET_BIND_SERVICE'), 'may bind port 179 with ALL dropped');
  const nodename = (container.env as Obj[]).find((e) => e.name === 'NODENAME');
  t.equal(at(nodename, 'valueFrom', 'fieldRef', 'fieldPath'), 'spec.nodeName');
  t.ok(dsEnv.IP_AUTODETECTION_METHOD, 'IP_AUTODETECTION_METHOD is set');

  const cfg = parseConfig(configText, podEnv, 'configmap');
  if (!cfg.ok) return t.fail('config invalid');
  const port = cfg.config.metrics.port;
  for (const [probe, path] of [
    ['livenessProbe', '/healthz'],
    ['readinessProbe', '/readyz'],
  ] as const) {
    t.equal(at(container, probe, 'httpGet', 'path'), path, `${probe} path`);
    t.equal(at(container, probe, 'httpGet', 'port'), port, `${probe} port = metrics.listen`);
    t.equal(
      at(container, probe, 'httpGet', 'host'),
      cfg.config.metrics.host,
      `${probe} host = metrics.listen (loopback on the host network)`,
    );
  }

  // The config volume is the ConfigMap, mounted where --config points.
  const volumes = spec.volumes as Obj[];
  const mounts = container.volumeMounts as Obj[];
  const cmVol = volumes.find((v) => at(v, 'configMap', 'name') !== undefined) as Obj;
  t.equal(at(cmVol, 'configMap', 'name'), at(configMap, 'metadata', 'name'), 'ConfigMap name');
  const cmMount = mounts.find((m) => m.name === cmVol.name) as Obj;
  const args = container.args as string[];
  const configArg = args[args.indexOf('--config') + 1];
  t.equal(configArg, `${String(cmMount.mountPath)}/podbgp.yaml`, '--config is the mounted key');
  t.equal(at(configMap, 'metadata', 'namespace'), at(daemonSet, 'metadata', 'namespace'));

  // The control socket's directory is the /run/podbgp hostPath.
  const runVol = volumes.find((v) => at(v, 'hostPath', 'path') === '/run/podbgp') as Obj;
  t.ok(runVol, '/run/podbgp hostPath volume');
  const runMount = mounts.find((m) => m.name === runVol.name) as Obj;
  t.equal(dirname(cfg.config.control.socket), runMount.mountPath, 'socket dir is mounted');

  if (existsSync(ex('rbac.yaml'))) {
    const sa = byKind(docs('rbac.yaml'), 'ServiceAccount');
    t.equal(spec.serviceAccountName, at(sa, 'metadata', 'name'), 'service account from rbac.yaml');
    t.equal(at(sa, 'metadata', 'namespace'), at(daemonSet, 'metadata', 'namespace'));
  }
});

/** The documented node setup, derived from the ConfigMap and the DaemonSet. */
function documented() {
  const r = parseConfig(configText, podEnv, 'configmap');
  if (!r.ok) throw new Error('configmap config invalid');
  const c = r.config;
  const tor = c.peers.find((p) => p.asn !== c.node.asn);
  if (!tor) throw new Error('the ConfigMap has no eBGP (ToR) peer');
  const method = dsEnv.IP_AUTODETECTION_METHOD;
  const subnet = /^cidr=(.+)$/.exec(method)?.[1];
  if (!subnet) throw new Error(`IP_AUTODETECTION_METHOD ${method} names no node subnet`);
  return {
    nodeAsn: c.node.asn,
    torAsn: tor.asn,
    torAddress: tor.address,
    nodeSubnet: subnet,
    pool: c.pools[0].cidr,
    blockSize: c.pools[0].blockSize,
  };
}

t.test('the documented setup is self-consistent', async (t) => {
  const d = documented();
  const subnet = parseCidr(d.nodeSubnet);
  const ip = parseIp(d.torAddress);
  t.ok(subnet && ip && cidrContains(subnet, ip), 'the ToR is inside the node subnet');
  t.not(d.nodeAsn, d.torAsn, 'eBGP to the ToR');
});

t.test('tor-frr.conf matches the documented setup', async (t) => {
  const d = documented();
  const text = read('tor-frr.conf');
  t.equal(/^router bgp (\d+)$/m.exec(text)?.[1], String(d.torAsn), 'router bgp = ToR ASN');
  t.equal(/bgp router-id (\S+)/.exec(text)?.[1], d.torAddress, 'router id = ToR address');
  const ifAddr = /^ ip address (\S+)$/m.exec(text)?.[1];
  t.equal(ifAddr, `${d.torAddress}/${d.nodeSubnet.split('/')[1]}`, 'interface address');
  const remoteAs = [...text.matchAll(/neighbor \S+ remote-as (\d+)/g)].map((m) => m[1]);
  t.same(remoteAs, [String(d.nodeAsn)], 'every neighbor is in the nodes’ AS');
  const ranges = [...text.matchAll(/bgp listen range (\S+) peer-group/g)].map((m) => m[1]);
  t.same(ranges, [d.nodeSubnet], 'listen range = node subnet');
  t.match(
    text,
    new RegExp(`prefix-list \\S+ seq \\d+ permit ${d.pool} ge ${d.blockSize} le 32`),
    'accepts pool blocks only',
  );
  t.match(text, /neighbor \S+ route-map \S+ in/, 'import filtered');
  t.match(text, /neighbor \S+ route-map \S+ out/, 'export filtered');
  t.match(text, /neighbor \S+ as-override/, 'as-override (nodes share one AS)');
});

t.test('tor-bird.conf matches the documented setup', async (t) => {
  const d = documented();
  const text = read('tor-bird.conf');
  const defines = Object.fromEntries(
    [...text.matchAll(/^define (\w+) = (\d+);/gm)].map((m) => [m[1], m[2]]),
  );
  const val = (s: string) => defines[s] ?? s;
  t.equal(/^router id (\S+);/m.exec(text)?.[1], d.torAddress, 'router id = ToR address');
  const local = /local (\S+) as (\w+);/.exec(text);
  t.equal(local?.[1], d.torAddress, 'local address = ToR address');
  t.equal(val(local?.[2] ?? ''), String(d.torAsn), 'local as = ToR ASN');
  const range = /neighbor range (\S+) as (\w+);/.exec(text);
  t.equal(range?.[1], d.nodeSubnet, 'neighbor range = node subnet');
  t.equal(val(range?.[2] ?? ''), String(d.nodeAsn), 'neighbors in the nodes’ AS');
  t.match(text, `${d.pool}{${d.blockSize},32}`, 'accepts pool blocks only');
  t.match(text, /bgp_path\.delete\(NODE_ASN\)/, 'removes the shared node AS on export');
});

const check = (cmd: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });

t.test(
  'FRR accepts tor-frr.conf',
  { skip: !existsSync('/usr/bin/vtysh') && 'vtysh (FRR) is not installed' },
  async (t) => {
    const r = await check('/usr/bin/vtysh', ['--dryrun', '-f', ex('tor-frr.conf')]);
    t.equal(r.code, 0, `vtysh --dryrun: ${r.out.trim()}`);
    t.notMatch(r.out, /Unknown command|% /, 'no command rejected');
  },
);

t.test(
  'BIRD accepts tor-bird.conf',
  { skip: !existsSync('/usr/sbin/bird') && 'bird (BIRD 2) is not installed' },
  async (t) => {
    const r = await check('/usr/sbin/bird', ['-p', '-c', ex('tor-bird.conf')]);
    t.equal(r.code, 0, `bird -p: ${r.out.trim()}`);
  },
);

t.test('the checkers reject a broken config (so a pass above means something)', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const dir = await mkdtemp('/tmp/podbgp-examples-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  if (existsSync('/usr/bin/vtysh')) {
    await writeFile(
      join(dir, 'bad.conf'),
      read('tor-frr.conf').replace('as-override', 'as-overide'),
    );
    t.not((await check('/usr/bin/vtysh', ['--dryrun', '-f', join(dir, 'bad.conf')])).code, 0);
  }
  if (existsSync('/usr/sbin/bird')) {
    await writeFile(
      join(dir, 'bad.bird'),
      read('tor-bird.conf').replace('neighbor range', 'neighbour rnge'),
    );
    t.not((await check('/usr/sbin/bird', ['-p', '-c', join(dir, 'bad.bird')])).code, 0);
  }
});
