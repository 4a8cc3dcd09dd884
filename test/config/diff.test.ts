// Config diff for SIGHUP: unchanged peers stay, policy-only changes need no session reset.
import t from 'tap';
import { diffConfigs } from '../../src/config/diff.js';
import { parseConfig } from '../../src/config/load.js';
import type { PodbgpConfig } from '../../src/config/schema.js';

const load = (text: string): PodbgpConfig => {
  const r = parseConfig(text, {});
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

const BASE = `
prefixLists: {pods: [10.244.0.0/16]}
policies:
  tor: {export: [{match: {prefixList: pods}}, {action: reject}]}
  other: {import: [{action: reject}]}
peers:
  - {address: 192.168.30.1, asn: 65001, policy: tor}
  - {address: 192.168.30.2, asn: 65001, policy: other}
  - {address: 192.168.30.3, asn: 65001}
`;

t.test('identical configs: empty diff', async (t) => {
  const d = diffConfigs(load(BASE), load(BASE));
  t.ok(d.empty);
  t.same(d.peers.unchanged, ['192.168.30.1', '192.168.30.2', '192.168.30.3']);
});

t.test('added, removed, changed peers; policy-only change keeps the session', async (t) => {
  const after = load(`
prefixLists: {pods: [10.244.0.0/16, 10.245.0.0/16]}
policies:
  tor: {export: [{match: {prefixList: pods}}, {action: reject}]}
  other: {import: [{action: reject}]}
peers:
  - {address: 192.168.30.1, asn: 65001, policy: tor}
  - {address: 192.168.30.2, asn: 65002, policy: other}
  - {address: 192.168.30.4, asn: 65001}
logLevel: debug
`);
  const d = diffConfigs(load(BASE), after);
  t.notOk(d.empty);
  t.same(
    d.peers.added.map((p) => p.address),
    ['192.168.30.4'],
  );
  t.same(
    d.peers.removed.map((p) => p.address),
    ['192.168.30.3'],
  );
  const byAddr = new Map(d.peers.changed.map((c) => [c.address, c]));
  t.same(byAddr.get('192.168.30.1')?.fields, ['policy-content'], 'its prefix list changed');
  t.equal(byAddr.get('192.168.30.1')?.sessionReset, false, 'soft reset is enough');
  t.same(byAddr.get('192.168.30.2')?.fields, ['asn']);
  t.equal(byAddr.get('192.168.30.2')?.sessionReset, true, 'a new ASN needs a new OPEN');
  t.same(d.policies.changed, ['tor'], 'a policy changes when a list it uses changes');
  t.same(d.sections, ['logLevel']);
  t.same(d.restartRequired, []);
});

t.test('switching policy reference is soft; listen change needs a restart', async (t) => {
  const d = diffConfigs(
    load(BASE),
    load(BASE.replace('policy: other}', 'policy: tor}') + 'listen: {port: 1179}\n'),
  );
  const c = d.peers.changed.find((x) => x.address === '192.168.30.2');
  t.same(c?.fields, ['policy']);
  t.equal(c?.sessionReset, false);
  t.same(d.restartRequired, ['listen']);
  const p = diffConfigs(
    load(BASE),
    load(
      BASE.replace(
        '  other: {import: [{action: reject}]}\n',
        '  other: {import: [{action: reject}]}\n  third: {}\n',
      ),
    ),
  );
  t.same(p.policies.added, ['third']);
});
