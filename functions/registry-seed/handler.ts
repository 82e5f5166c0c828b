import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
  Context,
} from 'aws-lambda';
import { errorFields, type Log } from '../../shared/observability/ports.js';
import {
  MailboxSettingsError,
  parseMailboxSettings,
  type MailboxSettings,
} from '../../shared/registry/mailbox.js';

/** The custom resource the stack declares, and its one property: the mailboxes as JSON text. */
export const SEED_RESOURCE_TYPE = 'Custom::MeshMailboxRegistrySeed';
export const SEED_PROPERTIES = { mailboxes: 'Mailboxes' } as const;
/** One seeding per stack: the id never changes, so CloudFormation never replaces (and so never deletes) it. */
export const SEED_PHYSICAL_ID = 'mesh-mailbox-registry-seed';

/** The part of MailboxRegistry seeding uses: a conditional add that is false when the mailbox is registered. */
export interface SeedRegistry {
  add(settings: MailboxSettings): Promise<boolean>;
}

/** Sends the custom resource's result to CloudFormation (a PUT to the event's pre-signed ResponseURL). */
export type SendResponse = (
  responseUrl: string,
  response: CloudFormationCustomResourceResponse,
) => Promise<void>;

export interface SeedHandlerDeps {
  readonly registry: SeedRegistry;
  readonly respond: SendResponse;
  readonly log: Log;
  /** Adds in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Time kept back from the Lambda timeout to answer CloudFormation. @default 15 s */
  readonly safetyMarginMs?: number;
}

export interface SeedResult {
  /** Mailboxes added by this run. */
  readonly added: readonly string[];
  /** Mailboxes left as they were, already registered (by an earlier seeding or an operator). */
  readonly alreadyRegistered: readonly string[];
}

export class SeedListError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the seed list is invalid: ${problems.join('; ')}`);
    this.name = 'SeedListError';
  }
}

/** CloudFormation shows the reason in the stack events; its whole answer must stay under 4 KB. */
const MAX_REASON_LENGTH = 1_000;

/** Reads the custom resource's list, checked by the registry's own rules, every problem named. */
export function parseSeedList(raw: unknown): MailboxSettings[] {
  let parsed: unknown;
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    throw new SeedListError([`${SEED_PROPERTIES.mailboxes} is not JSON`]);
  }
  if (!Array.isArray(parsed)) throw new SeedListError([`${SEED_PROPERTIES.mailboxes} is not a JSON list`]);
  const problems: string[] = [];
  const seen = new Set<string>();
  const list = parsed.flatMap((entry: unknown, index) => {
    try {
      const settings = parseMailboxSettings(entry);
      if (seen.has(settings.id)) problems.push(`mailbox ${settings.id} is listed twice`);
      seen.add(settings.id);
      return [settings];
    } catch (error) {
      if (!(error instanceof MailboxSettingsError)) throw error;
      problems.push(`mailboxes[${index}]: ${error.problems.join(', ')}`);
      return [];
    }
  });
  if (problems.length > 0) throw new SeedListError(problems);
  return list;
}

/**
 * Adds each mailbox that is not registered yet, a few at a time. Gives up when `signal` aborts, even with an add
 * still waiting on DynamoDB; the adds already made stay, and a later run skips them.
 */
export async function seedMailboxes(
  registry: SeedRegistry,
  list: readonly MailboxSettings[],
  concurrency: number,
  signal?: AbortSignal,
): Promise<SeedResult> {
  const added: string[] = [];
  const alreadyRegistered: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      signal?.throwIfAborted();
      const settings = list[next++]!;
      if (await registry.add(settings)) added.push(settings.id);
      else alreadyRegistered.push(settings.id);
    }
  };
  const workers = Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, list.length)) }, worker),
  );
  if (!signal) await workers;
  else {
    let stop: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      stop = () => reject(signal.reason as Error);
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
    try {
      await Promise.race([workers, aborted]);
    } finally {
      signal.removeEventListener('abort', stop!);
      // A worker that fails after the deadline has nobody to tell.
      workers.catch(() => undefined);
      aborted.catch(() => undefined);
    }
  }
  return { added, alreadyRegistered };
}

/**
 * CloudFormation custom resource adapter: Create and Update seed the list, Delete does nothing. It always answers
 * CloudFormation, with FAILED and the reason when seeding fails or runs out of time, so a deployment never waits an
 * hour for an answer; it throws only when the answer itself cannot be delivered (Lambda then retries the event).
 */
export function createSeedHandler(deps: SeedHandlerDeps) {
  const { log } = deps;
  const concurrency = deps.concurrency ?? 16;
  const marginMs = deps.safetyMarginMs ?? 15_000;
  return async (
    event: CloudFormationCustomResourceEvent,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<CloudFormationCustomResourceResponse> => {
    const physicalResourceId = event.RequestType === 'Create' ? SEED_PHYSICAL_ID : event.PhysicalResourceId;
    const answer = {
      PhysicalResourceId: physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    let response: CloudFormationCustomResourceResponse;
    try {
      if (event.RequestType === 'Delete') {
        // The registry is data: removing the stack, or a mailbox from the list, leaves every mailbox registered.
        log.info('registry seeding: nothing to do on delete');
        response = { ...answer, Status: 'SUCCESS', Data: { Added: 0, AlreadyRegistered: 0 } };
      } else {
        const list = parseSeedList(event.ResourceProperties[SEED_PROPERTIES.mailboxes]);
        const budgetMs = Math.max(1_000, context.getRemainingTimeInMillis() - marginMs);
        const result = await withDeadline(budgetMs, (signal) =>
          seedMailboxes(deps.registry, list, concurrency, signal),
        );
        log.info('registry seeded', {
          requestType: event.RequestType,
          listed: list.length,
          added: result.added,
          alreadyRegistered: result.alreadyRegistered.length,
        });
        response = {
          ...answer,
          Status: 'SUCCESS',
          Data: { Added: result.added.length, AlreadyRegistered: result.alreadyRegistered.length },
        };
      }
    } catch (error) {
      log.error('registry seeding failed', { requestType: event.RequestType, ...errorFields(error) });
      response = { ...answer, Status: 'FAILED', Reason: reasonOf(error) };
    }
    await deps.respond(event.ResponseURL, response);
    return response;
  };
}

/**
 * Runs `work` with a signal that aborts after `ms`. The timer is an ordinary one (AbortSignal.timeout's is not),
 * so the deadline fires even when nothing else is pending.
 */
async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`seeding took over ${ms} ms`, 'TimeoutError')),
    ms,
  );
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

function reasonOf(error: unknown): string {
  const text =
    error instanceof Error && error.name === 'TimeoutError'
      ? 'registry seeding ran out of time; the mailboxes added so far stay added: deploy again to add the rest'
      : `registry seeding failed: ${error instanceof Error ? error.message : String(error)}`;
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 3)}...`;
}
