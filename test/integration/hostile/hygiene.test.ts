/**
 * Secret and payload hygiene: the whole pipeline (send, poll, download) runs with known secret values and known
 * payload bytes, through successes and failures, and nothing any function logs, and nothing written to stdout or
 * stderr while it runs, may contain one of them. Error lines must carry the keys that tie them to a mailbox and a
 * message or transfer.
 */
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { InboundEventV1 } from '../../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import { createLogger, logPort } from '../../../shared/observability/powertools.js';
import type { Log } from '../../../shared/observability/ports.js';
import { startMeshServer, type RunningMeshServer } from '../../../local/mesh-server/index.js';
import { startPipelineHarness, type CapturedLog, type PipelineHarness } from '../../harness/pipeline.js';
import { base64, credentialsFor, putSecret, runDownloads, runPoll, runSend } from './support.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

const SECRET_PASSWORD = 'pw-HYGIENE-5f0c2e9ab1d4';
const SECRET_SHARED = 'shared-HYGIENE-8e31b07c66fa';
const WRONG_PASSWORD = 'wrong-HYGIENE-c4a9e1f27d03';
const PAYLOAD_MARKER = 'PAYLOAD-MARKER-b3d1f6a9-NHS-9434765919-Smith';
/** A body with the marker in every kilobyte, so every chunk of it carries the marker. */
const PAYLOAD = Buffer.from(Array.from({ length: 60 }, (_, i) => `${i},${PAYLOAD_MARKER}\n`).join(''));
const MAILBOXES = ['X26ABC1', 'X26ABC2', 'X26ABC3'];

/**
 * Everything written to stdout and stderr between start() and stop(). Other writers (the test runner) are passed
 * through; the pipeline's own JSON log lines are kept back so they do not flood the test output.
 */
function captureOutput() {
  const written: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap = (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      written.push(text);
      if (text.startsWith('{') && text.includes('"service":"')) {
        const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    } as typeof process.stdout.write;
  return {
    written,
    start() {
      process.stdout.write = tap(process.stdout, originals.out);
      process.stderr.write = tap(process.stderr, originals.err);
    },
    stop() {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}

/** Each function logs to the harness (structured) and through its real Powertools logger (to stdout). */
function teeLog(h: PipelineHarness, service: string): Log {
  const real = logPort(createLogger(service));
  return {
    debug: (m, e) => (h.log.debug(m, e), real.debug(m, e)),
    info: (m, e) => (h.log.info(m, e), real.info(m, e)),
    warn: (m, e) => (h.log.warn(m, e), real.warn(m, e)),
    error: (m, e) => (h.log.error(m, e), real.error(m, e)),
  };
}

describe('secret and payload hygiene across the pipeline', () => {
  let h: PipelineHarness;
  let mesh: RunningMeshServer;
  const output = captureOutput();
  let forbidden: Record<string, string>;
  let statusEvents: OutboundStatusEventV1[];
  let inboundEvents: InboundEventV1[];

  before(async () => {
    h = await startPipelineHarness({ maxReceiveCount: 2, visibilityTimeoutSeconds: 0 });
    // A MESH server of its own, so that its password and shared secret are values nothing else uses.
    mesh = await startMeshServer({
      mailboxes: MAILBOXES.map((id) => ({ id, password: SECRET_PASSWORD, ods: 'X26' })),
      workflows: [{ id: 'TEST_WORKFLOW', senders: MAILBOXES, receivers: MAILBOXES }],
      sharedSecret: SECRET_SHARED,
      tls: { cert: h.mesh.pki.server.cert, key: h.mesh.pki.server.key, ca: h.mesh.pki.ca.cert },
    });
    for (const id of MAILBOXES) {
      putSecret(h, id, credentialsFor(h, id, { password: SECRET_PASSWORD, sharedSecret: SECRET_SHARED }));
    }
    putSecret(
      h,
      'X26ABC3',
      credentialsFor(h, 'X26ABC3', { password: WRONG_PASSWORD, sharedSecret: SECRET_SHARED }),
    );
    forbidden = {
      'mailbox password': SECRET_PASSWORD,
      'shared secret': SECRET_SHARED,
      'wrong password tried': WRONG_PASSWORD,
      'payload marker': PAYLOAD_MARKER,
      'payload as base64': PAYLOAD.toString('base64').slice(0, 48),
      'NHSMESH token': 'NHSMESH ',
      'a PEM block': '-----BEGIN',
    };
    for (const id of MAILBOXES) {
      const lines = h.mesh.pki.clients[id]!.key.split('\n').filter(
        (l) => l.length >= 20 && !l.startsWith('-----'),
      );
      lines.forEach((line, i) => (forbidden[`line ${i + 1} of the client key of ${id}`] = line));
    }

    const env = { [ENV.meshUrl]: mesh.url, [ENV.chunkBytes]: '1024' };
    const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    output.start();
    try {
      // A good multi-chunk send, a rejected one and a failed one (wrong password), all carrying the payload.
      await h.putObject('outbound/X26ABC1/hygiene/good.csv', PAYLOAD, {
        'mex-to': 'X26ABC2',
        'mex-workflowid': 'TEST_WORKFLOW',
        'mex-filename': 'good.csv',
      });
      await h.putObject('outbound/X26ABC1/hygiene/rejected.csv', PAYLOAD, { 'mex-to': 'nobody at all' });
      await h.putObject('outbound/X26ABC3/hygiene/failed.csv', PAYLOAD, {
        'mex-to': 'X26ABC2',
        'mex-workflowid': 'TEST_WORKFLOW',
      });
      await runSend(h, env, teeLog(h, 'outbound-send'));

      // Inbound: the good message, a checksum mismatch, corrupt gzip and a gzip bomb, all carrying the payload.
      await mesh.admin.injectMessage({
        recipient: 'X26ABC2',
        headers: { 'mex-content-checksum': `SHA256:${'0'.repeat(64)}`, 'mex-filename': 'mismatch.csv' },
        chunks: [base64(PAYLOAD)],
      });
      const gzipped = gzipSync(PAYLOAD);
      await mesh.admin.injectMessage({
        recipient: 'X26ABC2',
        content_encoding: 'gzip',
        chunks: [base64(Buffer.concat([gzipped.subarray(0, 40), Buffer.from(PAYLOAD_MARKER)]))],
      });
      await mesh.admin.injectMessage({
        recipient: 'X26ABC2',
        content_encoding: 'gzip',
        chunks: [base64(gzipSync(Buffer.concat(Array.from({ length: 2000 }, () => PAYLOAD))))],
      });
      await runPoll(h, ['X26ABC2', 'X26ABC3'], env, teeLog(h, 'inbound-poll')).catch(() => undefined);
      await runDownloads(
        h,
        { ...env, [ENV.maxDecodedChunkBytes]: String(64 * 1024) },
        teeLog(h, 'inbound-download'),
      );
    } finally {
      output.stop();
      if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
      else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
    }
    statusEvents = await h.takeMessages<OutboundStatusEventV1>(h.statusQueue);
    inboundEvents = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
  });
  after(async () => {
    output.stop();
    await mesh.close();
    await h.close();
  });

  const lines = (): string[] => h.logs.map((l) => JSON.stringify(l));

  function assertClean(haystack: readonly string[], where: string): void {
    for (const [what, value] of Object.entries(forbidden)) {
      const hit = haystack.find((text) => text.includes(value));
      assert.equal(hit, undefined, `${what} appears in ${where}: ${hit?.slice(0, 400)}`);
    }
  }

  test('the run went through success and failure in every function', () => {
    const messages = h.logs.map((l) => l.message);

    assert.ok(messages.includes('transfer accepted by MESH'));
    assert.ok(messages.includes('transfer rejected'));
    assert.ok(messages.includes('transfer failed'));
    assert.ok(messages.includes('inbox poll failed'));
    assert.ok(messages.includes('message stored, announced and acknowledged'));
    assert.ok(messages.includes('stored message does not match its mex-Content-Checksum'));
    assert.ok(messages.includes('message cannot be collected; it stays unacknowledged in MESH'));
    assert.equal(inboundEvents.length, 2, 'the good message and the checksum mismatch');
    assert.deepEqual(statusEvents.map((e) => e.status).sort(), [
      'accepted',
      'failed',
      'received',
      'received',
      'received',
      'rejected',
      'sending',
      'sending',
    ]);
  });

  test('no secret or payload byte appears in any structured log line', () => {
    assert.ok(h.logs.length > 20, `${h.logs.length} lines captured`);
    assertClean(lines(), 'a log line');
  });

  test('no secret or payload byte appears in anything written to stdout or stderr', () => {
    assert.ok(
      output.written.some((w) => w.includes('transfer accepted by MESH')),
      'the real loggers wrote through the captured streams',
    );
    assertClean(output.written, 'stdout/stderr');
  });

  test('no secret or payload byte appears in the events the pipeline published', () => {
    assertClean(
      [...statusEvents, ...inboundEvents].map((e) => JSON.stringify(e)),
      'an event',
    );
  });

  /** The SQS adapter's own line for a failed record, next to the logic's line about the same failure. */
  const isAdapterLine = (line: CapturedLog) =>
    line.message.endsWith(' record failed') && 'sqsMessageId' in line;

  test('no secret or payload byte is kept in the state table', async () => {
    const { Items = [] } = await h.clients.dynamo.send(new ScanCommand({ TableName: h.tableName }));
    assert.ok(Items.length >= 6, `${Items.length} items`);

    assertClean(
      Items.map((item) => JSON.stringify(item)),
      'a DynamoDB item',
    );
  });

  test('every error line from the pipeline logic names its mailbox and the message or transfer', () => {
    const errors = h.logs.filter((l) => l.level === 'ERROR' && !isAdapterLine(l));
    assert.ok(errors.length >= 5, `${errors.length} error lines`);

    for (const line of errors) {
      const keys = correlationKeys(line);
      assert.ok(keys.mailbox, `no mailbox in ${JSON.stringify(line)}`);
      if (line.message === 'inbox poll failed') continue; // a poll concerns a whole mailbox
      assert.ok(keys.messageId || keys.transferId, `no message or transfer id in ${JSON.stringify(line)}`);
    }
  });

  test("the SQS adapter's record-failure lines name the mailbox and the message or transfer too", () => {
    const adapterLines = h.logs.filter((l) => l.level === 'ERROR' && isAdapterLine(l));
    assert.ok(adapterLines.length > 0);

    for (const line of adapterLines) {
      const keys = correlationKeys(line);
      assert.ok(keys.mailbox && (keys.messageId || keys.transferId), JSON.stringify(line));
    }
  });
});

/** Correlation keys on a line itself or inside its `error` (a MeshError carries mailboxId and messageId). */
function correlationKeys(line: CapturedLog): Record<string, unknown> {
  const error = (line.error ?? {}) as Record<string, unknown>;
  return {
    mailbox: line.mailbox ?? error.mailboxId,
    messageId: line.messageId ?? error.messageId,
    transferId: line.transferId,
    sqsMessageId: line.sqsMessageId,
  };
}
