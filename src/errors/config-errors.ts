/** The deployment or a job definition is wrong: nothing can be sent until a person fixes it. */
import { SendonceError } from './base';

/** Configuration is invalid; the message lists every problem. */
export class ConfigError extends SendonceError {}

/** The job name is not defined in the job registry. */
export class UnknownJobError extends SendonceError {}

/** A template is missing, or a variable it needs is missing. */
export class TemplateError extends SendonceError {}

/**
 * A job's recipient query returned a page that does not advance strictly past the cursor in the job's declared
 * id order (e.g. ids compared as text but produced from numbers: '10' < '9'). Keyset pagination would skip
 * people silently, so the run fails instead (reason `recipient_page_out_of_order`).
 */
export class RecipientPageOrderError extends SendonceError {}

/**
 * The `reason` a failed run reports for the error type that ended it (none for most). Its return type is inferred,
 * a literal that the workflow checks against FailReason (src/contract): importing the contract here would make
 * an import cycle (contract → retry → errors).
 */
export function failureReason(errorType: string) {
  return errorType === RecipientPageOrderError.name ? 'recipient_page_out_of_order' : undefined;
}
