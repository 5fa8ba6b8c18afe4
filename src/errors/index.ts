/** Every error sendonce throws, by domain; all extend SendonceError (see base.ts for why names matter). */
export * from './base';
export * from './send-errors';
export * from './config-errors';
export * from './lock-errors';
export * from './operator-errors';
