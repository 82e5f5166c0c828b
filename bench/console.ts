/**
 * `npm run bench -- console`: the console API's list calls over a table holding 10,000 transfers and 10,000
 * inbound messages (ten mailboxes, a thousand of each per mailbox), through the console function's handler as API
 * Gateway calls it: token verification (aws-jwt-verify against the local issuer's JWKS), routing, the listings'
 * Queries of the table's byMailbox index (and the operations overview's Scan), filtering and paging. The last line
 * is one JSON object.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createConsoleFunction } from '../functions/console-api/container.js';
import { createAwsClients } from '../shared/aws/clients.js';
import { silentLog } from '../shared/observability/ports.js';
import { parseMailboxSettings } from '../shared/registry/mailbox.js';
import { MailboxRegistry } from '../shared/registry/mailbox-registry.js';
import { inboundIndexEntry, transferIndexEntry } from '../shared/state/mailbox-index.js';
import { functionEnvironment } from '../shared/wiring/pipeline.js';
import { startLocalAws } from '../local/aws/index.js';
import { LocalIssuer } from '../local/console/issuer.js';
import { createLambdaContext } from '../local/runtime/lambda-context.js';
import { createPipelineTable } from '../local/runtime/table.js';

export interface ConsoleBenchResult {
  readonly scenario: 'console';
  readonly records: number;
  readonly listP95Ms: number;
  readonly listP50Ms: number;
  readonly listMaxMs: number;
  readonly calls: number;
  readonly p95ByCall: Readonly<Record<string, number>>;
  readonly seedSeconds: number;
}

const MAILBOXES = Array.from({ length: 10 }, (_, i) => `X26BEN${i}`);
const TABLE = 'mesh-console-bench';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Items as the pipeline writes them (TransferStore, InboundStore): the same keys and fields a listing reads. */
function seedItems(perMailbox: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  const start = Date.parse('2026-11-01T00:00:00Z');
  MAILBOXES.forEach((mailbox, m) => {
    const to = MAILBOXES[(m + 1) % MAILBOXES.length]!;
    for (let i = 0; i < perMailbox; i++) {
      const at = new Date(start + (m * perMailbox + i) * 60_000).toISOString();
      const transferId = `${m.toString(16).padStart(2, '0')}${i.toString(16).padStart(30, '0')}`;
      items.push({
        pk: `TRANSFER#${transferId}`,
        sk: 'TRANSFER',
        transferId,
        status: i % 50 === 0 ? 'stalled' : 'delivered',
        sender: mailbox,
        recipient: to,
        workflowId: 'BENCH_WORKFLOW',
        localId: `nmp-${transferId}`,
        fileName: `results-${i}.csv`,
        messageId: `2026110100000${m}${String(i).padStart(6, '0')}_BENCH`,
        bucket: 'outbound',
        key: `outbound/${mailbox}/console/${transferId}.csv`,
        size: 1000 + i,
        totalChunks: 1,
        chunksSent: 1,
        bytesSent: 1000 + i,
        attempts: 1,
        createdAt: at,
        updatedAt: at,
        pendingEvents: {},
        ...transferIndexEntry({
          transferId,
          key: `outbound/${mailbox}/console/${transferId}.csv`,
          createdAt: at,
        }),
      });
      const messageId = `2026110100000${(m + 9) % 10}${String(i).padStart(6, '0')}_BENCH`;
      items.push({
        pk: `INBOUND#${mailbox}#${messageId}`,
        sk: 'INBOUND',
        mailboxId: mailbox,
        messageId,
        status: i % 100 === 0 ? 'poisoned' : 'acknowledged',
        messageType: i % 20 === 0 ? 'REPORT' : 'DATA',
        sender: MAILBOXES[(m + 9) % MAILBOXES.length],
        workflowId: 'BENCH_WORKFLOW',
        fileName: `report-${i}.csv`,
        bucket: 'inbound',
        key: `inbound/${mailbox}/BENCH_WORKFLOW/${messageId}/report-${i}.csv`,
        size: 2000 + i,
        sha256: 'a'.repeat(64),
        attempts: 1,
        createdAt: at,
        updatedAt: at,
        storedAt: at,
        pendingEvents: {},
        ...inboundIndexEntry({ mailboxId: mailbox, messageId, createdAt: at }),
      });
    }
  });
  return items;
}

export async function runConsoleBench(options: {
  transfers: number;
  iterations: number;
  say: (line: string) => void;
}): Promise<ConsoleBenchResult> {
  const aws = await startLocalAws();
  const server = createServer();
  try {
    const raw = new DynamoDBClient(aws.clientConfig('dynamodb'));
    await createPipelineTable(raw, TABLE);
    raw.destroy();
    const clients = createAwsClients({
      s3: aws.clientConfig('s3'),
      sqs: aws.clientConfig('sqs'),
      dynamodb: aws.clientConfig('dynamodb'),
    });
    const registry = new MailboxRegistry(clients.dynamo, TABLE, 'bench/');
    for (const id of MAILBOXES) await registry.add(parseMailboxSettings({ id }));

    const perMailbox = Math.ceil(options.transfers / MAILBOXES.length);
    const items = seedItems(perMailbox);
    const seedStart = performance.now();
    for (let i = 0; i < items.length; i += 25) {
      let batch = { [TABLE]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
      while (batch[TABLE]?.length) {
        const { UnprocessedItems } = await clients.dynamo.send(
          new BatchWriteCommand({ RequestItems: batch }),
        );
        batch = (UnprocessedItems ?? {}) as typeof batch;
      }
      if (i % 5000 === 0) options.say(`seeded ${i} of ${items.length} records`);
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    options.say(`seeded ${items.length} records in ${seedSeconds.toFixed(1)} s`);

    // The local issuer serves its JWKS; the console verifies every call's token against it, as in AWS.
    server.on('request', (req, res) => {
      void issuer.handle(req, res, new URL(req.url ?? '/', origin)).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const issuer = new LocalIssuer({
      issuer: `${origin}/issuer`,
      clientId: 'bench',
      users: [
        {
          username: 'bench',
          password: 'bench',
          name: 'bench',
          groups: ['operators', ...MAILBOXES.map((m) => `mailbox:${m}`)],
        },
      ],
    });
    const env = functionEnvironment('consoleApi', {
      meshUrl: 'https://unused',
      tableName: TABLE,
      outboundBucket: 'outbound',
      inboundBucket: 'inbound',
      secretPrefix: 'bench/',
      queueUrl: (q) => `${aws.endpoints.sqs}/000000000000/${q}`,
      console: { issuer: issuer.issuer, audience: 'bench', jwksUri: issuer.jwksUri },
    });
    const fn = createConsoleFunction(env, { clients, log: silentLog, metrics: { add: () => undefined } });
    const token = issuer.tokenFor('bench');
    const call = async (path: string): Promise<number> => {
      const [rawPath, rawQuery = ''] = path.split('?');
      const event = {
        version: '2.0',
        rawPath,
        rawQueryString: rawQuery,
        headers: { authorization: `Bearer ${token}` },
        queryStringParameters: rawQuery ? Object.fromEntries(new URLSearchParams(rawQuery)) : undefined,
        requestContext: { http: { method: 'GET', path: rawPath } },
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2;
      const started = performance.now();
      const result = (await fn.handler(
        event,
        createLambdaContext('consoleApi', 29_000) as Context,
      )) as APIGatewayProxyStructuredResultV2;
      const ms = performance.now() - started;
      if (result.statusCode !== 200) throw new Error(`${path} answered ${result.statusCode}: ${result.body}`);
      return ms;
    };
    await call(`/api/mailboxes/${MAILBOXES[0]}/outbox`); // warm: the JWKS fetch and the SDK's first connection

    const calls: Record<string, (i: number) => string> = {
      outbox: (i) => `/api/mailboxes/${MAILBOXES[i % MAILBOXES.length]}/outbox?limit=25`,
      inbox: (i) =>
        `/api/mailboxes/${MAILBOXES[i % MAILBOXES.length]}/inbox?limit=25&cursor=${(i * 25) % perMailbox}`,
      inboxSearch: (i) => `/api/mailboxes/${MAILBOXES[i % MAILBOXES.length]}/inbox?q=report-${i}&type=DATA`,
      operations: () => '/api/operations',
    };
    const timings: Record<string, number[]> = {};
    for (let i = 0; i < options.iterations; i++) {
      for (const [name, path] of Object.entries(calls)) (timings[name] ??= []).push(await call(path(i)));
      options.say(
        `round ${i + 1} of ${options.iterations}: ${Object.entries(timings)
          .map(([n, t]) => `${n} ${t.at(-1)!.toFixed(0)} ms`)
          .join(', ')}`,
      );
    }
    const all = Object.values(timings).flat();
    return {
      scenario: 'console',
      records: items.length,
      listP95Ms: Math.round(percentile(all, 95)),
      listP50Ms: Math.round(percentile(all, 50)),
      listMaxMs: Math.round(Math.max(...all)),
      calls: all.length,
      p95ByCall: Object.fromEntries(
        Object.entries(timings).map(([n, t]) => [n, Math.round(percentile(t, 95))]),
      ),
      seedSeconds: Math.round(seedSeconds),
    };
  } finally {
    server.closeAllConnections();
    server.close();
    await aws.close();
  }
}
