export * from './auth.js';
export * from './byte-source.js';
export * from './chunked-sender.js';
export * from './client.js';
export * from './environments.js';
export * from './errors.js';
export * from './metadata.js';
export * from './protocol.js';
export * from './retry.js';
export {
  createMeshAgent,
  DEFAULT_TIMEOUTS,
  type MeshTimeouts,
  type MeshTlsOptions,
  type RetryEvent,
} from './transport.js';
