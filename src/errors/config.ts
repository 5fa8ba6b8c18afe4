/** The deployment or a job definition is wrong: nothing can be sent until a person fixes it. */
import { SendonceError } from './base';

/** Configuration is invalid; the message lists every problem. */
export class ConfigError extends SendonceError {}

/** The job name is not defined in the job registry. */
export class UnknownJobError extends SendonceError {}

/** A template is missing, or a variable it needs is missing. */
export class TemplateError extends SendonceError {}
