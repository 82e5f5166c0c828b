import { request } from 'node:https';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EnvReader } from '../../shared/config/env.js';
import { functionObservability } from '../../shared/observability/lambda-observability.js';
import type { Log, MetricsSink } from '../../shared/observability/ports.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
import { DEPLOY_FUNCTIONS, ENV } from '../../shared/wiring/pipeline.js';
import { createSeedHandler, type SendResponse } from './handler.js';

export interface SeedFunctionOverrides {
  readonly dynamodb?: DynamoDBClientConfig;
  readonly respond?: SendResponse;
  readonly log?: Log;
  readonly metrics?: MetricsSink;
}

/** Composition root of the registry seeding function: the table, the secret prefix, and the way back to CloudFormation. */
export function createSeedFunction(env: NodeJS.ProcessEnv, overrides: SeedFunctionOverrides = {}) {
  const read = new EnvReader(env, 'registrySeed');
  const tableName = read.string(ENV.tableName);
  const secretPrefix = read.string(ENV.secretPrefix);
  read.done();
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 8, ...overrides.dynamodb }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const { log, wrap } = functionObservability(DEPLOY_FUNCTIONS.registrySeed.serviceName, overrides);
  const handler = createSeedHandler({
    registry: new MailboxRegistry(dynamo, tableName, secretPrefix),
    respond: overrides.respond ?? putResponse,
    log,
  });
  return { handler: wrap(handler), close: async () => dynamo.destroy() };
}

const RESPONSE_ATTEMPTS = 4;
const RESPONSE_TIMEOUT_MS = 10_000;

/**
 * Answers CloudFormation: a PUT of the JSON result to the pre-signed S3 URL of the event. The URL was signed with
 * no content type, so none is sent. Retried, as a lost answer leaves the stack waiting for an hour.
 */
export const putResponse: SendResponse = async (url, response) => {
  const body = JSON.stringify(response);
  for (let attempt = 1; ; attempt++) {
    try {
      await put(url, body);
      return;
    } catch (error) {
      if (attempt >= RESPONSE_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
};

function put(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: RESPONSE_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`CloudFormation response upload answered HTTP ${status}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('CloudFormation response upload timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
