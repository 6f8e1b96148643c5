// The package as its tests see it: the public entry points and the internal
// steps and formats they also check one by one.

export * from '../src/dictionary/symbol-dict.js';
export * from '../src/index.js';
export * from '../src/inspect.js';
export * from '../src/recovery/aborted-tail-step.js';
export * from '../src/recovery/chain-step.js';
export * from '../src/recovery/dictionary-step.js';
export * from '../src/recovery/lock-step.js';
export * from '../src/recovery/scan-step.js';
export * from '../src/recovery/seed-ack-step.js';
export * from '../src/slot-files/ack-watermark.js';
export * from '../src/slot-files/dual-record.js';
export * from '../src/slot-files/manifest.js';
