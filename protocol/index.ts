// The public face of protocol/: everything other layers may import from the wire codec.
// Re-exports only; no code of its own. Import from here, not from the individual files.
// RFC 4271 §4 and the RFCs named in each module.

export * from './constants.js';
export * from './errors.js';
export * from './types.js';
export * from './prefix.js';
export * from './header.js';
export * from './capabilities.js';
export * from './open.js';
export * from './notification.js';
export * from './route-refresh.js';
export * from './keepalive.js';
export * from './framer.js';
export * from './message.js';
export * from './json.js';
export * from './nlri.js';
export * from './attributes/index.js';
export * from './update.js';
export * from './update-json.js';
export * from './pack.js';
// header.ts and pack.ts both define maxMessageLength (the same rule); name the one exported.
export { maxMessageLength } from './header.js';
