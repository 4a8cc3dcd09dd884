// K8sPeerSource against a misbehaving API server: outages (nothing withdrawn), restarts partway
// through a watch (resume from resourceVersion, or re-list after 410 Gone as HTTP status or as an
// ERROR event), bookmarks, and watch timeouts.
import t from 'tap';
import { makeNode, type FakeApiServer } from './fake-apiserver.js';
import { addrs, makeSource, sleep, startServer, waitFor, type Recorder } from './harness.js';

const ASN = 64512;
const ident = { nodeName: 'n1', globalAsn: ASN, addresses: { ipv4: '10.0.0.1/24' } };

function seed(api: FakeApiServer): void {
  for (let i = 1; i <= 3; i++) {
    api.create(
      'nodes',
      makeNode(`n${i}`, { internalIP: `10.0.0.${i}`, podCIDRs: [`10.244.${i}.0/24`] }),
    );
  }
}

const lists = (api: FakeApiServer, resource = 'nodes') =>
  api.requests.filter((q) => q.verb === 'list' && q.resource === resource).length;

async function begin(t: { teardown(fn: () => unknown): void }, r: Recorder): Promise<void> {
  t.teardown(() => r.source.stop());
  r.source.start();
  await r.source.whenSynced();
}

for (const goneMode of ['status', 'event'] as const) {
  t.test(`API outage withdraws nothing, recovery re-lists (410 as ${goneMode})`, async (t) => {
    const api = await startServer({ goneMode });
    t.teardown(() => api.stop());
    seed(api);
    const r = makeSource(api, ident);
    await begin(t, r);
    await waitFor(() => api.openWatches() === 2, 'both watches open');
    const before = r.source.peers();
    const blocksBefore = r.source.local().blocks;
    t.same(addrs(before), ['10.0.0.2', '10.0.0.3']);
    t.same(blocksBefore, ['10.244.1.0/24']);
    t.equal(r.source.status().connected, true);

    // The API server goes away partway through the watches.
    await api.stop();
    await waitFor(() => r.source.status().connected === false, 'outage noticed');
    await sleep(1500); // many backoff periods (50..300 ms)
    t.equal(r.updates.length, 1, 'no update during the outage: nothing withdrawn');
    t.same(r.source.peers(), before, 'peers kept');
    t.same(r.source.local().blocks, blocksBefore, 'blocks kept');
    const st = r.source.status();
    t.equal(st.connected, false);
    t.type(st.outageSince, 'number', 'outage start recorded');
    t.ok(st.lastError, 'last error recorded');
    const outageLogs = r.logs.filter((l) => l.msg.startsWith('Kubernetes API unreachable'));
    t.equal(outageLogs.length, 1, 'the outage is logged once, not once per retry');

    // While it was down, n3 left and n4 joined; the watch history is lost on restart.
    api.delete('nodes', 'n3');
    api.create('nodes', makeNode('n4', { internalIP: '10.0.0.4' }));
    api.compact();
    const listsBefore = lists(api);
    await api.start();
    await waitFor(() => r.updates.length === 2, 'update after recovery');
    t.same(addrs(r.updates[1].peers.removed), ['10.0.0.3'], 'the node deleted during the outage');
    t.same(addrs(r.updates[1].peers.added), ['10.0.0.4'], 'the node added during the outage');
    t.same(r.updates[1].peers.changed, []);
    t.ok(lists(api) > listsBefore, '410 Gone made the informer re-list');
    await waitFor(() => r.source.status().connected, 'connected again');
    t.equal(r.source.status().outageSince, undefined);
    t.ok(r.logs.some((l) => l.msg === 'Kubernetes API reachable again'));

    // And it keeps watching afterwards.
    api.delete('nodes', 'n2');
    await waitFor(() => r.updates.length === 3, 'post-recovery event');
    t.same(addrs(r.updates[2].peers.removed), ['10.0.0.2']);
  });
}

t.test(
  'restart partway through a watch resumes from resourceVersion without a re-list',
  async (t) => {
    const api = await startServer();
    t.teardown(() => api.stop());
    seed(api);
    const r = makeSource(api, ident);
    await begin(t, r);
    await waitFor(() => api.openWatches() === 2, 'watches open');
    const listsBefore = lists(api);
    const lastRv = api.get('nodes', 'n3')?.metadata.resourceVersion;
    await api.stop();
    await sleep(200);
    api.create('nodes', makeNode('n5', { internalIP: '10.0.0.5' }));
    await api.start();
    await waitFor(() => r.updates.length === 2, 'event that happened while down');
    t.same(addrs(r.updates[1].peers.added), ['10.0.0.5']);
    t.equal(lists(api), listsBefore, 'history was available: no re-list');
    const rewatch = api.requests.filter(
      (q) => q.verb === 'watch' && q.resource === 'nodes' && q.status === 200,
    );
    t.ok(
      rewatch.length >= 2 &&
        Number(rewatch[rewatch.length - 1].query.resourceVersion) >= Number(lastRv),
      'the watch resumed from the last resourceVersion it saw',
    );
  },
);

t.test('410 Gone as an ERROR event on an open watch triggers a re-list', async (t) => {
  const api = await startServer({ goneMode: 'event' });
  t.teardown(() => api.stop());
  seed(api);
  const r = makeSource(api, ident);
  await begin(t, r);
  await waitFor(() => api.openWatches() === 2, 'watches open');
  const listsBefore = lists(api);
  api.expireWatches();
  await waitFor(() => lists(api) > listsBefore, 're-list after ERROR 410');
  await waitFor(() => api.openWatches('nodes') === 1, 'watch re-opened');
  await sleep(100);
  t.equal(r.updates.length, 1, 're-listing the same nodes emits nothing');
  t.equal(r.source.status().connected, true, '410 is not an outage');
  api.create('nodes', makeNode('n6', { internalIP: '10.0.0.6' }));
  await waitFor(() => r.updates.length === 2, 'event after re-list');
  t.same(addrs(r.updates[1].peers.added), ['10.0.0.6']);
});

t.test('bookmarks advance the resourceVersion a re-opened watch starts from', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  seed(api);
  // The server ends each watch after 1 s (timeoutSeconds), as real API servers do.
  const r = makeSource(api, ident, { watchTimeoutSeconds: 1 });
  await begin(t, r);
  await waitFor(() => api.openWatches('nodes') === 1, 'nodes watch open');
  // Writes elsewhere move the global resourceVersion; the nodes watch sees none of them.
  api.create('bgppeers', {
    metadata: { name: 'x' },
    spec: { peerAddress: '10.9.9.9', peerASN: 65009 },
  });
  const rv = api.get('bgppeers', 'x')?.metadata.resourceVersion;
  t.ok(api.bookmark() >= 1, 'a bookmark was sent to watches that asked for them');
  const watchesBefore = api.requests.filter((q) => q.verb === 'watch' && q.resource === 'nodes');
  await waitFor(
    () =>
      api.requests.filter((q) => q.verb === 'watch' && q.resource === 'nodes').length >
      watchesBefore.length,
    'watch re-opened after its timeout',
  );
  const again = api.requests.filter((q) => q.verb === 'watch' && q.resource === 'nodes');
  t.equal(again[again.length - 1].query.resourceVersion, rv, 'resumed from the bookmark');
  t.equal(again[again.length - 1].query.timeoutSeconds, '1');
  t.equal(lists(api), 1, 'a normal watch timeout does not re-list');
  t.equal(r.updates.length, 2, 'the BGPPeer was the only update');
});

t.test('an API server that is down at start: no update until it answers', async (t) => {
  const api = await startServer();
  seed(api);
  await api.stop();
  const r = makeSource(api, ident);
  t.teardown(() => r.source.stop());
  t.teardown(() => api.stop());
  r.source.start();
  await sleep(500);
  t.equal(r.updates.length, 0, 'no peers are invented and none are emitted');
  t.equal(r.source.status().synced, false);
  t.equal(r.source.status().connected, false);
  await api.start();
  await r.source.whenSynced();
  t.same(addrs(r.updates[0].peers.added), ['10.0.0.2', '10.0.0.3']);
  t.equal(r.source.status().synced, true);
});

t.test('a watch that goes silent is abandoned and re-opened', async (t) => {
  const api = await startServer();
  t.teardown(() => api.stop());
  seed(api);
  // timeoutSeconds=1: the client gives up on a watch silent for 2 s.
  const r = makeSource(api, ident, { watchTimeoutSeconds: 1 });
  await begin(t, r);
  api.hangWatches = true;
  // Wait until the current watches ended and new ones were accepted but never answered.
  await waitFor(
    () => api.requests.some((q) => q.verb === 'watch' && q.resource === 'nodes' && q.status === 0),
    'a hung nodes watch',
  );
  api.create('nodes', makeNode('n7', { internalIP: '10.0.0.7' }));
  await sleep(300);
  t.equal(r.updates.length, 1, 'the hung watch delivers nothing');
  api.hangWatches = false;
  await waitFor(() => r.updates.length === 2, 'event after the silent watch was abandoned');
  t.same(addrs(r.updates[1].peers.added), ['10.0.0.7']);
  t.same(r.updates[1].peers.removed, [], 'nothing withdrawn meanwhile');
});
