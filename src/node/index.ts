// Public face of src/node: address arithmetic, autodetection methods, interface sources and
// the node identity. Re-exports only; no logic.
export * from './addr.js';
export * from './methods.js';
export * from './interfaces.js';
export * from './autodetect.js';
export * from './identity.js';
