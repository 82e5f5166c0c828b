/** The timestamp formats MESH puts on the wire. */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** UTC `yyyyMMddHHmmss`, as in `mex-StatusTimestamp`. */
export function meshSecondsTimestamp(date: Date): string {
  return (
    String(date.getUTCFullYear()) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds())
  );
}

/** RFC 9110 IMF-fixdate, as in `Last-Modified`. */
export function httpDate(date: Date): string {
  return date.toUTCString();
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
