/** The window ledger: every window finishes, by follow-up runs, or says who was not sent and why (expired). */
export * from './deadline';
export * from './ledger';
export * from './keeper';
export * from './unsent';
