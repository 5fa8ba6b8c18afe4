/** Every error sendonce throws, by domain; all extend SendonceError (see base.ts for why names matter). */
export * from './base';
export * from './send';
export * from './config';
export * from './lock';
export * from './operator';
