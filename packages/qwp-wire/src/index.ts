/**
 * Everything of the three entry points at once, for code that uses them
 * all (a sender): `@qwp/qwp-wire/codec` (messages, responses, SERVER_INFO),
 * `@qwp/qwp-wire/config` (the connect string) and
 * `@qwp/qwp-wire/failover` (host tracking and backoff). Import from the one
 * you need where you can.
 *
 * @module @qwp/qwp-wire
 */

export * from './codec/index.js';
export * from './config/index.js';
export * from './failover/index.js';
