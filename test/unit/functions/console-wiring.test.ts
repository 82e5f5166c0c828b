import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createConsoleFunction } from '../../../functions/console-api/container.js';
import { ConfigurationError } from '../../../shared/config/env.js';
import { silentLog } from '../../../shared/observability/ports.js';
import { ENV, functionEnvironment, type DeploymentNames } from '../../../shared/wiring/pipeline.js';

const deployment: DeploymentNames = {
  meshUrl: 'https://localhost:8700',
  tableName: 'mesh',
  outboundBucket: 'outbound',
  inboundBucket: 'inbound',
  secretPrefix: 'mesh/',
  queueUrl: (queue) => `https://sqs.eu-west-2.amazonaws.com/000000000000/${queue}`,
  console: { issuer: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_x', audience: 'client' },
};
const quiet = { log: silentLog, metrics: { add: () => undefined } };

describe('the console function reads what the wiring says, and only that', () => {
  test('builds from functionEnvironment alone and reads only names the wiring declares', async () => {
    const env = functionEnvironment('consoleApi', deployment);
    const read = new Set<string>();
    const watched = new Proxy(env, {
      get: (target, key) => {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    });
    await createConsoleFunction(watched, quiet).close();
    const declared = new Set<string>(Object.values(ENV));
    for (const name of read) assert.ok(declared.has(name), `reads ${name}, not in the wiring`);
    assert.deepEqual(
      Object.keys(env).sort(),
      [
        ENV.consoleAudience,
        ENV.consoleIssuer,
        ENV.downloadQueueUrl,
        ENV.inboundBucket,
        ENV.meshUrl,
        ENV.outboundBucket,
        ENV.secretPrefix,
        ENV.sendQueueUrl,
        ENV.tableName,
      ].sort(),
    );
  });

  test("is given the MESH URL and the deployment's secret prefix, for the recipient lookup", () => {
    const env = functionEnvironment('consoleApi', deployment);
    assert.equal(env[ENV.meshUrl], deployment.meshUrl);
    assert.equal(env[ENV.secretPrefix], deployment.secretPrefix);
  });

  test('a deployment without the console sign-in cannot build its environment', () => {
    assert.throws(
      () => functionEnvironment('consoleApi', { ...deployment, console: undefined }),
      /console sign-in/,
    );
  });

  test('a cold start without its settings names every one missing', () => {
    assert.throws(
      () => createConsoleFunction({}, quiet),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        [
          ENV.tableName,
          ENV.meshUrl,
          ENV.secretPrefix,
          ENV.consoleIssuer,
          ENV.consoleAudience,
          ENV.sendQueueUrl,
        ].every((name) => error.problems.includes(`${name} is not set`)),
    );
  });
});
