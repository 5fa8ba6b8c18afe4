/** Deliverability: the suppressions table, unsubscribe tokens and links, and the one-click endpoint. */
export * from './address-hash';
export * from './store';
export * from './token';
export * from './links';
export * from './unsubscribe';
export * from './http';
