/**
 * Strict recipient address check before anything reaches nodemailer. nodemailer parses address strings
 * leniently ("a@x.com, b@y.com" is two recipients; quotes and comments can reroute), so we accept only a plain
 * addr-spec and pass it as { name, address } objects. Non-ASCII domains and local parts are refused rather
 * than half-supported: a clear dead letter beats a misdelivery.
 */
import { InvalidRecipientError } from '../errors';

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Returns why the address is unusable, or undefined if it is a plain, routable addr-spec. */
export function addressProblem(address: unknown): string | undefined {
  if (typeof address !== 'string' || address.length === 0) return 'address is missing';
  if (address.length > 254) return 'address is longer than 254 characters';
  if (/[\r\n]/.test(address)) return 'address contains a line break';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'address has no local part or no domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return 'local part is longer than 64 characters';
  if (!LOCAL.test(local)) return 'local part has characters that are not allowed (quotes, comments, spaces, non-ASCII)';
  if (!DOMAIN.test(domain)) return 'domain is not a valid host name';
  return undefined;
}

export function assertValidAddress(address: unknown, what: string): asserts address is string {
  const problem = addressProblem(address);
  if (problem) throw new InvalidRecipientError(`${what}: ${problem}`);
}

/** Display names go into a header: refuse line breaks instead of trusting the encoder to fold them away. */
export function assertValidDisplayName(name: string | undefined, what: string): void {
  if (name !== undefined && /[\r\n]/.test(name)) throw new InvalidRecipientError(`${what}: display name contains a line break`);
}

/** Replaces anything that looks like an email address (with its angle brackets, if any) by `<redacted>`. */
export function scrubAddresses(text: string): string {
  return text.replace(/<?[^\s<>()[\]{},;:"'`]+@[^\s<>()[\]{},;:"'`]+>?/g, '<redacted>');
}
