// The example configs in examples/ must stay valid and mean what their comments say.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';

const file = (name: string): string =>
  fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

t.test('examples/podbgp.yaml is valid and shows the defaults it documents', async (t) => {
  const r = loadConfig({ path: file('podbgp.yaml') }, {});
  t.ok(r.ok, r.ok ? 'valid' : JSON.stringify(r.errors));
  if (!r.ok) return;
  const c = r.config;
  t.equal(c.node.ipv4.autodetectionMethod, 'interface=ens33,eth0');
  t.equal(c.pools[0].ipipMode, 'CrossSubnet');
  t.equal(c.peers[0].policy, 'tor');
  t.ok(c.policies.tor);
  t.equal(c.kernel.table, 254);
  t.equal(c.kernel.protocol, 186);
  t.equal(c.control.socket, '/run/podbgp/podbgp.sock');
  t.equal(c.metrics.listen, '127.0.0.1:9179');
  t.same(r.warnings, []);
});

t.test('examples/standalone.yaml runs without Kubernetes', async (t) => {
  const r = loadConfig({ path: file('standalone.yaml') }, {});
  t.ok(r.ok, r.ok ? 'valid' : JSON.stringify(r.errors));
  if (!r.ok) return;
  t.equal(r.config.kubernetes.enabled, false);
  t.same(r.config.staticBlocks, ['10.244.7.0/26']);
  t.equal(r.config.peers.length, 2);
  t.same(r.warnings, []);
});

t.test('a missing file is an error, not an exception', async (t) => {
  const r = loadConfig({ path: file('does-not-exist.yaml') }, {});
  t.notOk(r.ok);
  if (!r.ok) t.match(r.errors[0].message, /cannot read the config file/);
});
