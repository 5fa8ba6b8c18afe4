/**
 * The deployment's unsubscribe configuration (UNSUBSCRIBE_* in src/config.ts), turned into what signing, checking
 * and the send activity need.
 */
import type { Config } from '../config';
import type { UnsubscribeSettings } from './links';
import type { UnsubscribeKeys } from './token';

/** The signing keys: the current secret, and earlier ones that still verify. Undefined when unsubscribe is off. */
export function unsubscribeKeys(config: Pick<Config, 'UNSUBSCRIBE_SECRET' | 'UNSUBSCRIBE_PREVIOUS_SECRETS'>): UnsubscribeKeys | undefined {
  if (!config.UNSUBSCRIBE_SECRET) return undefined;
  const previous = (config.UNSUBSCRIBE_PREVIOUS_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return { current: config.UNSUBSCRIBE_SECRET, previous };
}

/** What the send activity needs to put one-click unsubscribe on recurring emails; undefined when UNSUBSCRIBE_URL is unset. */
export function unsubscribeSettings(config: Config): UnsubscribeSettings | undefined {
  const keys = unsubscribeKeys(config);
  if (!config.UNSUBSCRIBE_URL || !keys) return undefined;
  return {
    url: config.UNSUBSCRIBE_URL,
    ...(config.UNSUBSCRIBE_MAILTO ? { mailto: config.UNSUBSCRIBE_MAILTO } : {}),
    keys,
    tokenTtlMs: config.UNSUBSCRIBE_TOKEN_TTL_DAYS * 24 * 3600_000,
  };
}
