// Public API of the kernel route sync. The daemon builds one KernelClient, which runs KernelSync
// with a real IpCommandRunner in a worker thread; `show` reads its statuses. Knows nothing of BGP.
// No RFC: the kernel interface is iproute2 (`ip -json`, `ip -batch`, `ip monitor`).

export { KernelSync } from './sync.js';
export {
  KernelClient,
  spawnKernelWorker,
  workerEntry,
  type KernelChannel,
  type KernelClientEvents,
  type KernelClientOptions,
} from './client.js';
export { unreachableReason, type ReachSnapshot } from './reach.js';
export { v4PrefixKey, formatV4PrefixKey } from './v4-key.js';
export { IpCommandRunner, type IpCommandRunnerOptions } from './runner.js';
export { systemClock } from './clock.js';
export {
  renderRoute,
  renderInstall,
  renderDelete,
  routeKey,
  type KernelRoute,
  type KernelNexthop,
} from './routes.js';
export { planRemote, planOwnBlock, parsePools, modeFor } from './plan.js';
export { buildTopology, Topology } from './topology.js';
export { parseBatchErrors } from './batch.js';
export type * from './types.js';
