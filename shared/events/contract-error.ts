import type { z } from 'zod';

/** An event the pipeline was about to record or publish broke its own contract: a bug, so it never goes out. */
export class EventContractError extends Error {
  constructor(
    readonly eventId: string,
    readonly problems: readonly string[],
  ) {
    // Paths and rules only, never values: an event can carry names and subjects of patients' files.
    super(`event ${eventId} breaks its contract: ${problems.join('; ')}`);
    this.name = 'EventContractError';
  }
}

/** The problems zod found, as paths and rules only. */
export function contractProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.code}`);
}

/**
 * An event as its id and serialised body, checked against its contract where it is built: before the state write
 * that records it as pending, so an event that breaks its contract fails the task with nothing recorded, instead of
 * being stored and then refused by the publisher on every retry and every relay run.
 */
export function contractedEvent<T extends { readonly eventId: string }>(
  schema: z.ZodType<T>,
  event: T,
): [string, string] {
  const result = schema.safeParse(event);
  if (!result.success) throw new EventContractError(event.eventId, contractProblems(result.error));
  return [event.eventId, JSON.stringify(event)];
}
