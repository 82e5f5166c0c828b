import type { MeshServerAdmin } from '../admin.js';
import { AdminRequestError, FaultRuleError } from '../errors.js';
import { readJson } from '../http-input.js';
import { emptyReply, jsonReply, type Reply } from '../reply.js';
import type { AdminEndpoint } from '../routes.js';
import type { MeshRequest } from './context.js';

const JSON_TYPE = 'application/json';
const ok = (value: unknown) => jsonReply(200, value, JSON_TYPE);
const problem = (status: number, msg: string) => jsonReply(status, { detail: [{ msg }] }, JSON_TYPE);

async function jsonBody(request: MeshRequest): Promise<unknown> {
  try {
    return await readJson(request.req);
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
  }
}

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
