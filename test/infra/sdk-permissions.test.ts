import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import type { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import { PROJECT_ROOT } from '../../infra/constructs/runtime/mesh-function.js';
import { createTestApp } from './app.js';

/**
 * The IAM action each AWS SDK command of the function code needs. The emulators the integration tests use do not
 * enforce IAM, so a new command would pass every test and fail only in AWS: this list makes it fail here first.
 */
const ACTION_OF_COMMAND: Readonly<Record<string, string>> = {
  GetObjectCommand: 's3:GetObject',
  HeadObjectCommand: 's3:GetObject',
  PutObjectCommand: 's3:PutObject',
  CreateMultipartUploadCommand: 's3:PutObject',
  UploadPartCommand: 's3:PutObject',
  CompleteMultipartUploadCommand: 's3:PutObject',
  AbortMultipartUploadCommand: 's3:AbortMultipartUpload',
  // Granted only under the function's own prefix (s3:prefix); shared/aws/s3-missing.ts lists exactly one key.
  ListObjectsV2Command: 's3:ListBucket',
  GetCommand: 'dynamodb:GetItem',
  // The poller's read of a page of inbox records (shared/state/inbound-store.ts getMany).
  BatchGetCommand: 'dynamodb:BatchGetItem',
  PutCommand: 'dynamodb:PutItem',
  // Granted only on the mailbox concurrency slots and parked tasks (dynamodb:LeadingKeys); the registry's remove is
  // the CLI's.
  DeleteCommand: 'dynamodb:DeleteItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  QueryCommand: 'dynamodb:Query',
  // The console's operations overview (shared/console; its listings Query the byMailbox index) and the operator's
  // one-off backfill of that index (shared/state/mailbox-index.ts); no pipeline function scans.
  ScanCommand: 'dynamodb:Scan',
  SendMessageCommand: 'sqs:SendMessage',
  GetSecretValueCommand: 'secretsmanager:GetSecretValue',
  // Granted only with an event bus (events.eventBus), on that bus only (test/infra/events.test.ts).
  PutEventsCommand: 'events:PutEvents',
};

/** Code the functions never run: the operator CLI's use cases, which act with the operator's own permissions. */
const OPERATOR_ONLY = [join(PROJECT_ROOT, 'shared', 'operations')];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (OPERATOR_ONLY.includes(path)) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

test('every AWS SDK command the functions use is allowed to the functions that may need it', () => {
  const { pipeline, statelessStack } = createTestApp();
  const actionsOf = (stack: Stack, policy: ManagedPolicy) => {
    const document = stack.resolve(policy.document.toJSON()) as {
      Statement: { Action: string | string[] }[];
    };
    return document.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  };
  // The console's function is built only with the console on, and the PutEvents grant only with an event bus.
  const consoleStack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'WithConsole', {
    env: { account: '111111111111', region: 'eu-west-2' },
  });
  const withConsole = new MeshPipeline(consoleStack, 'Mesh', {
    meshEnvironment: 'integration',
    secretPrefix: 'nhs-mesh-pipeline/test/',
    mailboxes: [{ id: 'X26ABC1' }],
    console: { signInDomainPrefix: 'mesh-console-test' },
    events: { eventBus: true },
  });
  const granted = new Set([
    ...[...pipeline.allFunctions(), pipeline.registrySeed].flatMap((f) =>
      actionsOf(statelessStack, f.policy),
    ),
    ...withConsole.allFunctions().flatMap((f) => actionsOf(consoleStack, f.policy)),
    ...actionsOf(consoleStack, withConsole.console!.function.policy),
  ]);
  const used = ['functions', 'shared'].flatMap((dir) =>
    sourceFiles(join(PROJECT_ROOT, dir)).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/new (\w+Command)\(/g)].map((m) => ({
        command: m[1]!,
        file: relative(PROJECT_ROOT, file),
      })),
    ),
  );

  assert.ok(used.length > 0);
  for (const { command, file } of used) {
    const action = ACTION_OF_COMMAND[command];
    assert.ok(
      action,
      `${file} uses ${command}: add its IAM action to this test and grant it in infra/constructs/runtime/permissions.ts`,
    );
    assert.ok(granted.has(action), `${file} uses ${command}, but no function may ${action}`);
  }
});
