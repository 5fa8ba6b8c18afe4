/** Delivery: the transport seam (types.ts), its SMTP implementation (smtp/), and what every transport shares. */
export type * from './types';
export { addressProblem, assertValidAddress, assertValidDisplayName, scrubAddresses } from './addresses';
export { messageIdFor } from './message-id';
export { createSmtpTransport, type SmtpTransportOptions } from './smtp';
