// The kernel sync's worker thread entry: builds the real KernelSync (IpCommandRunner, system
// clock) from the options the client sent and serves the client's messages (host.ts).
// Must not be imported by anything: client.ts starts it as a worker_threads Worker. No RFC.

import { parentPort, workerData } from 'node:worker_threads';
import { PortLogger, KernelHost } from './host.js';
import { IpCommandRunner } from './runner.js';
import { KernelSync } from './sync.js';
import { LEVEL_VALUES, type FromWorker, type KernelWorkerInit } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('src/kernel/worker runs only as a worker thread');
const init = workerData as KernelWorkerInit;
const post = (msg: FromWorker): void => port.postMessage(msg);
const logger = new PortLogger(post, LEVEL_VALUES[init.logLevel] ?? LEVEL_VALUES.info);
const sync = new KernelSync({
  ...init.options,
  runner: new IpCommandRunner({ netns: init.netns }),
  logger,
});
new KernelHost(sync, port, { setLogLevel: (level) => logger.setLevel(level) });
