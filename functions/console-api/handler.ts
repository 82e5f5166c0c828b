import middy from '@middy/core';
import httpRouterHandler, { type Method } from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ConsoleError, InvalidRequestError, NotFoundError } from '../../shared/console/errors.js';
import type { ConsoleUser } from '../../shared/console/identity.js';
import type { MailboxUseCases } from '../../shared/console/mailbox-use-cases.js';
import type { OperationsUseCases } from '../../shared/console/operations-use-cases.js';
import type { RecipientLookupUseCase } from '../../shared/console/recipient-lookup.js';
import type { TokenVerifier } from '../../shared/console/token-verifier.js';
import { errorFields, type Log } from '../../shared/observability/ports.js';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

/** A route's work: the signed-in user and the request in, a JSON-able answer out. */
type Action = (user: ConsoleUser, request: RouteRequest) => Promise<unknown>;

export interface RouteRequest {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  body(): unknown;
}

export interface ConsoleHandlerDeps {
  readonly verifier: TokenVerifier;
  readonly mailboxes: MailboxUseCases;
  readonly operations: OperationsUseCases;
  readonly recipients: RecipientLookupUseCase;
  readonly log: Log;
}

/** The largest JSON body the API reads: a send request is a few hundred bytes; files never come this way. */
const MAX_BODY_BYTES = 16 * 1024;

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function json(statusCode: number, body: unknown): Result {
  return { statusCode, headers: HEADERS, body: JSON.stringify(body) };
}

function requestOf(event: Event): RouteRequest {
  return {
    params: event.pathParameters ?? {},
    query: event.queryStringParameters ?? {},
    body() {
      if (!event.body) return {};
      const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      if (Buffer.byteLength(text) > MAX_BODY_BYTES)
        throw new InvalidRequestError(['The request is too large.']);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new InvalidRequestError(['The request body is not valid JSON.']);
      }
    },
  };
}

function bearerToken(event: Event): string | undefined {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/**
 * The console API over API Gateway HTTP API (payload 2.0) events: @middy/http-router picks the route, every route
 * verifies the caller's token first (the same check locally and in AWS), and expected refusals become JSON answers
 * with the words the page shows: `{ "error": { "code", "message", "problems" } }`.
 */
export function createConsoleHandler(deps: ConsoleHandlerDeps) {
  const { mailboxes, operations, recipients } = deps;
  const route = (method: Method, path: string, action: Action, status = 200) => ({
    method,
    path,
    handler: async (event: Event): Promise<Result> => {
      const user = await deps.verifier.verify(bearerToken(event));
      return json(status, await action(user, requestOf(event)));
    },
  });

  const routes = [
    route('GET', '/api/me', async (user) => user),
    route('GET', '/api/mailboxes', async (user) => ({ mailboxes: await mailboxes.mailboxes(user) })),
    route(
      'POST',
      '/api/mailboxes/{mailbox}/uploads',
      (user, r) => mailboxes.startUpload(user, r.params.mailbox, r.body()),
      201,
    ),
    route('GET', '/api/mailboxes/{mailbox}/recipients', (user, r) =>
      recipients.lookup(user, r.params.mailbox, r.query),
    ),
    route('GET', '/api/mailboxes/{mailbox}/outbox', (user, r) =>
      mailboxes.outbox(user, r.params.mailbox, r.query),
    ),
    route('GET', '/api/mailboxes/{mailbox}/outbox/by-key', (user, r) =>
      mailboxes.transfer(user, r.params.mailbox, { key: r.query.key ?? '' }),
    ),
    route('GET', '/api/mailboxes/{mailbox}/outbox/{transferId}', (user, r) =>
      mailboxes.transfer(user, r.params.mailbox, { transferId: r.params.transferId }),
    ),
    route('GET', '/api/mailboxes/{mailbox}/inbox', (user, r) =>
      mailboxes.inbox(user, r.params.mailbox, r.query),
    ),
    route('GET', '/api/mailboxes/{mailbox}/inbox/{messageId}', (user, r) =>
      mailboxes.message(user, r.params.mailbox, r.params.messageId),
    ),
    route('POST', '/api/mailboxes/{mailbox}/inbox/{messageId}/download', (user, r) =>
      mailboxes.download(user, r.params.mailbox, r.params.messageId),
    ),
    route('GET', '/api/operations', (user) => operations.overview(user)),
    route('GET', '/api/operations/audit', (user, r) => operations.auditTrail(user, r.query)),
    route('POST', '/api/operations/transfers/{transferId}/redrive', (user, r) =>
      operations.redriveTransfer(user, r.params.transferId),
    ),
    route('POST', '/api/operations/messages/{mailbox}/{messageId}/redrive', (user, r) =>
      operations.redriveMessage(user, r.params.mailbox, r.params.messageId),
    ),
    route('POST', '/api/operations/mailboxes/{mailbox}/pause', (user, r) =>
      operations.setPaused(user, r.params.mailbox, true, r.body()),
    ),
    route('POST', '/api/operations/mailboxes/{mailbox}/resume', (user, r) =>
      operations.setPaused(user, r.params.mailbox, false, r.body()),
    ),
  ];

  return middy<Event, Result, Error, Context>()
    .use({
      onError: (request) => {
        const error = request.error;
        if (error instanceof ConsoleError) {
          request.response = json(error.status, {
            error: { code: error.code, message: error.message, problems: error.problems },
          });
          return;
        }
        deps.log.error('console request failed', { path: request.event.rawPath, ...errorFields(error) });
        request.response = json(500, {
          error: {
            code: 'internal',
            message: 'Something went wrong. Try again, and tell an operator if it keeps happening.',
          },
        });
      },
    })
    .handler(
      httpRouterHandler<Event, Result>({
        routes,
        notFoundResponse: ({ method, path }) => {
          throw new NotFoundError(`There is no ${method} ${path} in the console API.`);
        },
      }),
    );
}
