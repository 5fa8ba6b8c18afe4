/** The programmatic API: what the `sendonce` CLI does, for your own code. */
export * from './schedules';
export * from './runs';
export * from './dead-letters';
export * from './unknown';
export type { ReopenedKey } from './reopened-runs';
export { createJobRegistry, defaultJobs, type JobDefinition } from '../jobs';
export { connectClient, temporalTarget } from '../temporal-connection';
export * from './scheduled-emails';
export * from './suppressions';
export { BackfillRangeError, NotFoundError, RedriveError, ScheduleEmailError, SuppressionError, UnknownResolutionError, UnsubscribeTokenError, WindowCommandError } from '../errors';
export { oneOffJob, type OneOffJobOptions } from '../jobs';
export * from './deploy';
export * from './locks';
export * from './windows';
