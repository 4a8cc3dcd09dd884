// Test-only packet capture: runs tcpdump on an interface inside a namespace and returns the BGP
// messages seen in each direction. Must not capture outside namespaces the caller created.
// RFC 4271 §4.1 framing is applied by pcap.ts's splitter, not by the project's codec.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, sleep, spawnProcess, tempDir, waitFor } from './netns.js';
import { readPcapTcp, reassemble, splitBgp, type SplitMessage } from './pcap.js';

export interface BgpFlow {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  start: number;
  messages: SplitMessage[];
  /** Bytes left after the last whole message, and whether the capture missed bytes. */
  trailing: number;
  gap: boolean;
}

export interface TcpdumpHandle {
  file: string;
  /** Stops tcpdump (flushing its buffer) and returns the BGP flows it saw. */
  stop(): Promise<BgpFlow[]>;
}

/** Starts `tcpdump -i DEV -s 0 -U -w FILE tcp port PORT` in `ns`; waits until it listens. */
export async function startTcpdump(
  cleanup: Cleanup,
  ns: string,
  dev: string,
  port = 179,
): Promise<TcpdumpHandle> {
  const dir = await tempDir(cleanup, 'podbgp-pcap-');
  const file = join(dir, `${dev}.pcap`);
  const proc = spawnProcess(
    cleanup,
    '/usr/bin/tcpdump',
    ['-i', dev, '-s', '0', '-U', '-n', '-w', file, 'tcp', 'port', String(port)],
    { ns, stopSignal: 'SIGINT' },
  );
  await waitFor(() => /listening on/.test(proc.output()) || !proc.isRunning(), {
    timeoutMs: 10_000,
    what: `tcpdump on ${ns}/${dev}`,
  });
  if (!proc.isRunning()) throw new Error(`tcpdump failed: ${proc.output()}`);
  return {
    file,
    stop: async () => {
      await sleep(300);
      await proc.stop('SIGINT');
      return flowsOf(await readFile(file));
    },
  };
}

/** Splits every TCP direction of a pcap file into BGP messages. */
export function flowsOf(pcap: Buffer): BgpFlow[] {
  return reassemble(readPcapTcp(pcap)).map((s) => {
    const { messages, rest } = splitBgp(s.data, s.times);
    return {
      src: s.src,
      sport: s.sport,
      dst: s.dst,
      dport: s.dport,
      start: s.start,
      messages,
      trailing: rest.length,
      gap: s.gap,
    };
  });
}
