import { z } from 'zod';

/**
 * The one name and shape of an event's time in every event the pipeline publishes: `occurredAt`, an ISO 8601 UTC
 * timestamp with milliseconds, as `Date.prototype.toISOString` writes it.
 */
export const eventTime = z.iso.datetime();
