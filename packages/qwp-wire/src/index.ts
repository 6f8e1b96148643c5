export * from './codec/index.js';
export * from './config/index.js';
export * from './errors.js';
export * from './failover/index.js';
