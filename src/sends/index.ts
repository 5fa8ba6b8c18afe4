/** email_sends — one row per idempotency key — and everything that reads or moves its state. */
export * from './key';
export * from './claims';
export * from './marks';
export * from './failure-branch';
export * from './redrive';
export * from './resolve';
export * from './window-template';
