// The public surface of the Kubernetes integration, for daemon.ts and the CLI.
// Re-exports only; no logic here. Internals (the informer wrapper, node reading) stay importable
// from their own files for tests.
export { K8sPeerSource, kubeConfigFrom, NODES_PATH, BGPPEERS_PATH } from './peer-source.js';
export { nodeInternalIps } from './internal-ip.js';
export type { K8sPeerSourceOptions } from './peer-source.js';
export { computePeers, diffPeers, isEmptyDiff, samePeer, localState } from './peer-set.js';
export type { PeerSetInput, PeerSetResult } from './peer-set.js';
export { parseBgpPeer } from './bgppeer.js';
export type { BgpPeer, BgpPeerSpec } from './bgppeer.js';
export { matchesSelector, validateSelector } from './label-selector.js';
export type { LabelSelector, LabelSelectorRequirement } from './label-selector.js';
export { annotationPatch, mergePatchAnnotations, NodeAnnotator } from './annotator.js';
export type { AnnotationPatcher } from './annotator.js';
export * from './types.js';
