/**
 * The text layout the operator commands share: a titled block of fields, a table, and times as ISO strings.
 * Operators script against this output, so it changes only on purpose.
 */
import type { Output } from '../commands.js';

/** A title, then one indented line per field that has a value (undefined and '' are left out). */
export function sayFields(out: Output, title: string, fields: readonly [string, string | undefined][]): void {
  out.say(title);
  for (const [name, value] of fields)
    if (value !== undefined && value !== '') out.say(`  ${name.padEnd(18)}${value}`);
}

/** Columns as wide as their widest cell, two spaces apart, with no trailing blanks. */
export function table(out: Output, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out.say(line(header));
  for (const row of rows) out.say(line(row));
}

/** An epoch-millisecond time as an ISO string; undefined stays undefined, so a missing time drops its field. */
export function time(epochMs: number | undefined): string | undefined {
  return epochMs === undefined ? undefined : new Date(epochMs).toISOString();
}
