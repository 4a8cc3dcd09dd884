// Reads this node's InternalIP addresses from the API, for the `kubernetes-internal-ip`
// autodetection method. One GET at start-up; no watch.

import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export async function nodeInternalIps(kubeConfig: KubeConfig, nodeName: string): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const node = await core.readNode({ name: nodeName });
  return (node.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP')
    .map((a) => a.address);
}
