// Test-only entry point of the interop library: re-exports the netns toolkit, the daemon probe
// and every daemon launcher. Never imported by src/ or protocol/. No RFC: test plumbing.
export * from './netns.js';
export * from './probe.js';
export * from './bird.js';
export * from './frr.js';
export * from './gobgp.js';
export * from './openbgpd.js';
export * from './exabgp.js';
export * from './topology.js';
export * from './pcap.js';
export * from './capture.js';
