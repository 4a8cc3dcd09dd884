// Public face of src/lab: the namespace datacenter behind `podbgp lab`.
// Re-exports only; no logic.
export * from './plan.js';
export * from './configs.js';
export * from './exec.js';
export * from './paths.js';
export * from './ping.js';
export * from './state.js';
export * from './topology.js';
export * from './tor.js';
export * from './lab.js';
