/** Message ids shaped like real MESH ones: `yyyyMMddHHmmssSSSSSS_XXXXXX` (UTC to the microsecond, 6 hex). */
import { randomBytes } from 'node:crypto';
import { meshSecondsTimestamp } from './time.js';

export const MESSAGE_ID_PATTERN = /^\d{20}_[0-9A-F]{6}$/;

/**
 * The clock only has milliseconds, so the last three digits of the fraction come from a counter; together with
 * the random suffix that keeps ids distinct within one process even under a frozen test clock.
 */
let microCounter = 0;

export function createMessageId(now: Date, random: () => Buffer = () => randomBytes(3)): string {
  microCounter = (microCounter + 1) % 1000;
  const fraction = String(now.getUTCMilliseconds()).padStart(3, '0') + String(microCounter).padStart(3, '0');
  return `${meshSecondsTimestamp(now)}${fraction}_${random().toString('hex').toUpperCase()}`;
}

export function isMessageIdShape(value: string): boolean {
  return MESSAGE_ID_PATTERN.test(value);
}
