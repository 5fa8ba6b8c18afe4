/** email_sends — one row per idempotency key — and everything that reads or moves its state. */
export * from './key';
export * from './claims';
export * from './marks';
export * from './dead-letters';
export * from './redrive';
export * from './resolve';
