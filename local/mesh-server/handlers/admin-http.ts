import type { MeshServerAdmin } from '../admin.js';
import { AdminRequestError, FaultRuleError } from '../errors.js';
import { readJson } from '../http-input.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../message.js';
import { emptyReply, jsonReply, type Reply } from '../reply.js';
import type { AdminEndpoint } from '../routes.js';
import type { MeshRequest } from './context.js';

const JSON_TYPE = 'application/json';
const ok = (value: unknown) => jsonReply(200, value, JSON_TYPE);
const problem = (status: number, msg: string) => jsonReply(status, { detail: [{ msg }] }, JSON_TYPE);

/** Seeding ten thousand small messages in one request needs more than the usual 1 MB. */
const SEED_BODY_LIMIT = 100_000_000;

async function jsonBody(request: MeshRequest, limit?: number): Promise<unknown> {
  try {
    return await readJson(request.req, limit);
  } catch (err) {
    throw new AdminRequestError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}

async function run(endpoint: AdminEndpoint, request: MeshRequest, admin: MeshServerAdmin): Promise<Reply> {
  const { params } = request;
  switch (endpoint) {
    case 'admin.reset':
      await admin.reset();
      return emptyReply(200);
    case 'admin.resetMailbox':
      await admin.resetMailbox(params.mailbox!);
      return emptyReply(200);
    case 'admin.report':
      return ok(
        await admin.createReport((await jsonBody(request)) as Parameters<typeof admin.createReport>[0]),
      );
    case 'admin.inject':
      return ok(
        await admin.injectMessage((await jsonBody(request)) as Parameters<typeof admin.injectMessage>[0]),
      );
    case 'admin.expire':
      return ok(await admin.expireMessage(params.messageId!));
    case 'admin.expireDue':
      return ok(await admin.expireDue());
    case 'admin.message': {
      const view = await admin.getMessage(params.messageId!);
      return view ? ok(view) : problem(404, `no message ${params.messageId}`);
    }
    case 'admin.setFaults': {
      const body = await jsonBody(request);
      const rules =
        typeof body === 'object' && body !== null ? (body as { rules?: unknown }).rules : undefined;
      await admin.setFaults(rules as Parameters<typeof admin.setFaults>[0]);
      return ok({ rules: await admin.listFaults() });
    }
    case 'admin.clearFaults':
      await admin.clearFaults();
      return emptyReply(200);
    case 'admin.listFaults':
      return ok({ rules: await admin.listFaults() });
    case 'admin.stats':
      return ok(await admin.stats());
    case 'admin.addMailbox':
      return ok(await admin.addMailbox((await jsonBody(request)) as Parameters<typeof admin.addMailbox>[0]));
    case 'admin.listMailboxes':
      return ok({ mailboxes: await admin.listMailboxes() });
    case 'admin.inboxListings': {
      const since = query(request, 'since');
      const sinceDate = since === undefined ? undefined : new Date(since);
      if (sinceDate && Number.isNaN(sinceDate.getTime()))
        throw new AdminRequestError(400, 'since must be an ISO 8601 time');
      const listings = await admin.inboxListings(query(request, 'mailbox'), { since: sinceDate });
      return ok({ listings });
    }
    case 'admin.seed': {
      const body = await jsonBody(request, SEED_BODY_LIMIT);
      const messages =
        typeof body === 'object' && body !== null ? (body as { messages?: unknown }).messages : undefined;
      return ok({ messages: await admin.seedMessages(messages as Parameters<typeof admin.seedMessages>[0]) });
    }
    case 'admin.messages': {
      const status = query(request, 'status');
      if (status !== undefined && !(MESSAGE_STATUSES as readonly string[]).includes(status))
        throw new AdminRequestError(400, `status must be one of ${MESSAGE_STATUSES.join(', ')}`);
      const messages = await admin.listMessages({
        recipient: query(request, 'recipient'),
        sender: query(request, 'sender'),
        status: status as MessageStatus | undefined,
      });
      return ok({ messages });
    }
  }
}

const query = (request: MeshRequest, name: string) => request.url.searchParams.get(name) ?? undefined;

/** The admin endpoints: no NHSMESH auth, but behind the same TLS client-certificate check as everything else. */
export async function adminHandler(endpoint: AdminEndpoint, request: MeshRequest, admin: MeshServerAdmin) {
  try {
    return await run(endpoint, request, admin);
  } catch (err) {
    if (err instanceof AdminRequestError) return problem(err.status, err.message);
    if (err instanceof FaultRuleError) return problem(400, err.message);
    throw err;
  }
}
