/** An operator's request (CLI or API) cannot be done as asked; the message says what to do instead. */
import { SendonceError } from './base';

/** A schedule (or another named thing) does not exist. */
export class NotFoundError extends SendonceError {}

/** A backfill range is invalid (reversed, in the future, unparsable). */
export class BackfillRangeError extends SendonceError {}

/** A dead-letter redrive cannot be done safely or was asked for wrongly. */
export class RedriveError extends SendonceError {}

/** A one-off email cannot be scheduled as asked (address, time, template values). */
export class ScheduleEmailError extends SendonceError {}

/** An `unknown` key cannot be resolved as asked (no such id, not unknown any more, no note). */
export class UnknownResolutionError extends SendonceError {}

/** An unsubscribe token is malformed, forged, altered, expired or signed with a key we no longer have. */
export class UnsubscribeTokenError extends SendonceError {}

/** A suppression cannot be added or removed as asked (no address or job recipient, unknown id). */
export class SuppressionError extends SendonceError {}

/** A lock command cannot be done as asked (not confirmed, no terminal to ask in). */
export class LockCommandError extends SendonceError {}

/** A `sendonce windows finish|expire` that cannot be done as asked (unknown window, expired, deadline passed). */
export class WindowCommandError extends SendonceError {}
