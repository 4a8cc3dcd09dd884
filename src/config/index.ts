// Public face of src/config: load, validate and diff the podbgp configuration.
// Re-exports only; no logic. Callers import from here, not from the inner files.
export * from './schema.js';
export * from './load.js';
export * from './errors.js';
export * from './diff.js';
export { applyEnv, ENV_OVERRIDES, type Env } from './env.js';
export {
  parseCommunity,
  parseLargeCommunity,
  parseHostPort,
  WELL_KNOWN_COMMUNITIES,
  type LargeCommunity,
  type HostPort,
} from './values.js';
