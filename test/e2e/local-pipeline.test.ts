import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline/local-pipeline.js';
import type { PipelineEvent } from '../../local/pipeline/event-feed.js';
import { silentLog } from '../../shared/observability/ports.js';
import { assertMeetsEventContract } from '../harness/event-contracts.js';
import { ENV } from '../../shared/wiring/pipeline.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('npm start', () => {
  test('--demo completes the whole journey and exits 0', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'local/start.ts', '--demo'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /accepted {2}\(message \d{20}_[0-9A-F]{6}/);
    assert.match(run.stdout, /inbound {3}X26ABC1 → X26ABC2 {2}results\.csv {2}stored/);
    assert.match(run.stdout, /✔ delivered/);
    assert.match(run.stdout, /demo complete/);
  });
});

describe('the local pipeline end to end', () => {
  let pipeline: LocalPipeline;
  const events: PipelineEvent[] = [];
  before(async () => {
    pipeline = await startLocalPipeline({
      log: silentLog,
      meshPort: 0,
      functionTimeoutSeconds: 20,
      env: { [ENV.chunkBytes]: String(1024 * 1024), [ENV.allowSmallChunks]: 'true' },
    });
    pipeline.events.on((item) => void events.push(item));
  });
  after(async () => {
    await pipeline.stop();
  });

  async function until<T>(what: string, find: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const statusOf = (key: string, status: string) =>
    events.find(
      (e): e is { kind: 'status'; event: OutboundStatusEventV1 } =>
        e.kind === 'status' && e.event.key === key && e.event.status === status,
    )?.event;
  const inboundFor = (messageId: string) =>
    events.filter(
      (e): e is { kind: 'inbound'; event: InboundEventV1 } =>
        e.kind === 'inbound' && e.event.messageId === messageId,
    );

  async function upload(key: string, body: Buffer, to: string) {
    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: pipeline.resources.outboundBucket,
        Key: key,
        Body: body,
        Metadata: { 'mex-to': to, 'mex-workflowid': 'TEST_WORKFLOW' },
      }),
    );
  }

  test('carries files between several mailboxes, a multi-chunk one included, each exactly once', async () => {
    const files = [
      { from: 'X26ABC1', to: 'X26ABC2', body: randomBytes(3 * 1024 * 1024 + 17) },
      { from: 'X26ABC2', to: 'X26ABC3', body: randomBytes(1500) },
      { from: 'X26ABC3', to: 'X26ABC1', body: randomBytes(2 * 1024 * 1024) },
    ];
    const keys = files.map((f, i) => `outbound/${f.from}/e2e/file-${i}.bin`);
    await Promise.all(files.map((f, i) => upload(keys[i]!, f.body, f.to)));

    const accepted = await Promise.all(
      keys.map((key) => until(`accepted ${key}`, () => statusOf(key, 'accepted'))),
    );
    for (const [i, status] of accepted.entries()) {
      const [event, ...duplicates] = await until(`inbound ${status.messageId}`, () => {
        const found = inboundFor(status.messageId!);
        return found.length > 0 ? found : undefined;
      });
      assert.equal(duplicates.length, 0);
      assert.equal(event!.event.mailbox, files[i]!.to);
      const { Body } = await pipeline.clients.s3.send(
        new GetObjectCommand({ Bucket: event!.event.bucket, Key: event!.event.key }),
      );
      assert.equal(sha256(await buffer(Body as Readable)), sha256(files[i]!.body));
    }
    assert.equal(accepted[0]!.totalChunks, 4);
    await Promise.all(keys.map((key) => until(`delivered ${key}`, () => statusOf(key, 'delivered'))));
  });

  test('turns a message nobody collects into an undeliverable status through its code-14 report', async () => {
    // The recipient is paused, so nothing collects the message before it expires.
    await pipeline.registry.setPaused('X26ABC2', true, 'the test expires its messages');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const key = 'outbound/X26ABC1/e2e/never-collected.txt';
    await upload(key, Buffer.from('nobody will read this'), 'X26ABC2');
    const accepted = await until('accepted', () => statusOf(key, 'accepted'));

    await pipeline.mesh!.admin.expireMessage(accepted.messageId!);
    await pipeline.registry.setPaused('X26ABC2', false);

    const undeliverable = await until('undeliverable', () => statusOf(key, 'undeliverable'));
    assert.equal(undeliverable.error?.code, '14');
    const report = await until('report event', () =>
      events.find(
        (e) =>
          e.kind === 'inbound' &&
          e.event.messageType === 'REPORT' &&
          e.event.report?.linkedMessageId === accepted.messageId,
      ),
    );
    assert.equal(report.kind === 'inbound' && report.event.mailbox, 'X26ABC1');
  });

  // Last, so it judges every event the tests above made the pipeline publish.
  test('every event a consumer saw validates against its JSON Schema', () => {
    assert.ok(events.length > 0, 'no events seen');
    for (const { event } of events) assertMeetsEventContract(event);
  });
});
