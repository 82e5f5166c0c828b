import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { closeServer, endpointFor, listen } from './http.js';
import { readJsonObject, sendJson, type JsonObject } from './json-protocol.js';

/** An event as a bus delivers it to a rule's target: EventBridge's own envelope around the entry's detail. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** The entry's Time (or the time it was put), in whole seconds, as EventBridge writes it. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export interface EventBridgeEmulator {
  readonly endpoint: string;
  /** Every event the bus took, in the order it took them, as a rule's target would receive them. */
  events(bus?: string): BusEvent[];
  /**
   * The next `count` entries that would be taken fail instead, as PutEvents reports a failed entry: a 200 answer
   * with FailedEntryCount > 0 and the entry's ErrorCode (`InternalFailure` unless given), not an HTTP error.
   */
  failNextEntries(count: number, errorCode?: string): void;
  /** How many entries were refused, by an injected failure or as invalid. */
  readonly refusedEntries: number;
  close(): Promise<void>;
}

/** PutEvents takes at most 10 entries, and 256 KiB in all. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

class EventBridgeFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * An EventBridge stand-in (no emulator exists on the registry): PutEvents of the AWS JSON 1.1 protocol
 * (`X-Amz-Target: AWSEvents.PutEvents`), for the real @aws-sdk/client-eventbridge. Any bus name (or ARN) is taken,
 * and what each bus took is recorded as a rule's target would receive it, so tests read the bus's side rather than
 * the publisher's. Entries are checked as EventBridge checks them (source, detail-type, a JSON object detail, no
 * `aws.` source). Requests are not authenticated; signatures are neither checked nor required.
 */
export async function startEventBridge(options: {
  port: number;
  region: string;
  accountId: string;
}): Promise<EventBridgeEmulator> {
  const received = new Map<string, BusEvent[]>();
  const failures: string[] = [];
  let refused = 0;

  const putEvents = (input: JsonObject): JsonObject => {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new EventBridgeFault('ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} entries.`);
    }
    const results = entries.map((entry: unknown) => {
      const refusal = invalidEntry(entry);
      const injected = refusal ? undefined : failures.shift();
      if (refusal || injected) {
        refused++;
        return refusal ?? { ErrorCode: injected, ErrorMessage: 'Injected failure of the local EventBridge.' };
      }
      const e = entry as JsonObject;
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType as string,
        source: e.Source as string,
        account: options.accountId,
        time: wholeSeconds(typeof e.Time === 'number' ? new Date(e.Time * 1000) : new Date()),
        region: options.region,
        resources: Array.isArray(e.Resources) ? e.Resources.map(String) : [],
        detail: JSON.parse(e.Detail as string),
      };
      const bus = busName(e.EventBusName);
      received.set(bus, [...(received.get(bus) ?? []), event]);
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  };

  const server = createServer((req, res) => {
    handle(req, putEvents).then(
      (body) => sendJson(res, 200, body),
      (error: unknown) => {
        const fault =
          error instanceof EventBridgeFault
            ? error
            : new EventBridgeFault(
                'InternalException',
                error instanceof Error ? error.message : 'error',
                500,
              );
        sendJson(res, fault.status, { __type: fault.type, message: fault.message }, fault.type);
      },
    );
  });
  const port = await listen(server, options.port);
  return {
    endpoint: endpointFor(port),
    events: (bus = 'default') => [...(received.get(busName(bus)) ?? [])],
    failNextEntries: (count, errorCode = 'InternalFailure') => {
      for (let i = 0; i < count; i++) failures.push(errorCode);
    },
    get refusedEntries() {
      return refused;
    },
    close: () => closeServer(server),
  };
}

async function handle(
  req: IncomingMessage,
  putEvents: (input: JsonObject) => JsonObject,
): Promise<JsonObject> {
  const target = req.headers['x-amz-target'];
  if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
    throw new EventBridgeFault(
      'UnknownOperationException',
      `Unsupported operation: ${String(target ?? '-')}`,
    );
  }
  return putEvents(
    await readJsonObject(req, MAX_REQUEST_BYTES, {
      tooLarge: () => new EventBridgeFault('ValidationException', 'Request too large.'),
      notJson: () => new EventBridgeFault('SerializationException', 'Request body is not valid JSON.'),
      notObject: () => new EventBridgeFault('SerializationException', 'Request body must be a JSON object.'),
    }),
  );
}

/** The entry-level error EventBridge gives an entry it cannot take, or undefined for a valid entry. */
function invalidEntry(entry: unknown): { ErrorCode: string; ErrorMessage: string } | undefined {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as JsonObject;
  for (const field of ['Source', 'DetailType', 'Detail']) {
    if (typeof e[field] !== 'string' || e[field] === '') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid.` };
    }
  }
  if ((e.Source as string).startsWith('aws.')) {
    return {
      ErrorCode: 'NotAuthorizedForSourceException',
      ErrorMessage: 'Not authorized for the source.',
    };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  return undefined;
}

/** A bus named by name or ARN (`arn:aws:events:{region}:{account}:event-bus/{name}`); absent is `default`. */
function busName(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  return value.startsWith('arn:') ? value.slice(value.indexOf(':event-bus/') + ':event-bus/'.length) : value;
}

function wholeSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
