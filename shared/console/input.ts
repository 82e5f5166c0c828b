import type { z } from 'zod';
import { InvalidRequestError } from './errors.js';

/** Parses request input with a zod schema, refusing it with every problem named. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidRequestError(
    result.error.issues.map((issue) =>
      issue.code === 'invalid_type' && issue.path.length > 0
        ? `${issue.path.join('.')}: ${issue.message}`
        : issue.message,
    ),
  );
}
