/**
 * Hostile-input corpus, outbound: files dropped in the outbound bucket with metadata MESH would refuse, or that
 * would leak what they should not. Each must end `rejected` before a byte goes to MESH, with a clear reason and a
 * status event, and leave the file exactly as it was. Unreadable send-queue messages end in the DLQ, logged.
 */
import assert from 'node:assert/strict';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import type { TransferRecord } from '../../../shared/outbound/transfer.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';
import { readObject, runSend, takeRawBodies, transferIdOf } from './support.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

const ADDRESS = { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' };
const VALID_NHS_NUMBER = '9434765919';

describe('hostile outbound metadata: rejected before sending, with a reason, the file untouched', () => {
  let h: PipelineHarness;
  before(async () => {
    h = await startPipelineHarness({ maxReceiveCount: 2, visibilityTimeoutSeconds: 0 });
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.statusQueue);
  });

  interface Outcome {
    readonly record?: TransferRecord;
    readonly events: OutboundStatusEventV1[];
    readonly meshSends: number;
    /** The object's ETag and bytes before and after the send function saw it. */
    readonly before: { eTag?: string; body: Buffer };
    readonly after: { eTag?: string; body: Buffer };
  }

  /** Prepare and act: drop a file with this metadata and let the real send function handle it. */
  async function drop(
    key: string,
    body: string | Buffer,
    metadata: Record<string, string>,
    env: Record<string, string> = {},
  ): Promise<Outcome> {
    const put = await h.putObject(key, body, metadata);
    const before = await readObject(h, h.outboundBucket, key);
    await runSend(h, env);
    const transferId = transferIdOf(h, key, Buffer.byteLength(body), put);
    return {
      record: await h.transfers.get(transferId),
      events: await h.takeMessages<OutboundStatusEventV1>(h.statusQueue),
      meshSends: (await h.mesh.server.admin.stats()).counters.sendsAccepted,
      before,
      after: await readObject(h, h.outboundBucket, key),
    };
  }

  function assertRejected(outcome: Outcome, reason: RegExp): void {
    assert.equal(outcome.record?.status, 'rejected');
    assert.match(outcome.record?.errorText ?? '', reason);
    assert.equal(outcome.record?.messageId, undefined, 'no MESH message id');
    assert.equal(outcome.meshSends, 0, 'nothing reached MESH');
    const last = outcome.events.at(-1);
    assert.equal(last?.status, 'rejected');
    assert.match(last?.error?.text ?? '', reason);
    assert.equal(outcome.after.eTag, outcome.before.eTag, 'same ETag');
    assert.deepEqual(outcome.after.body, outcome.before.body, 'same bytes');
  }

  describe('recipient', () => {
    test('a file with no recipient is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/no-to.csv', 'a,b\n', {
        'mex-workflowid': 'TEST_WORKFLOW',
      });

      assertRejected(outcome, /no recipient: set mex-to metadata/);
    });

    test('a recipient that is not a mailbox id is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/bad-to.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-to': 'not a mailbox',
      });

      assertRejected(outcome, /mex-to is not a MESH mailbox id/);
    });

    test('a recipient that is a URL is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/url-to.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-to': 'https://evil.example/collect',
      });

      assertRejected(outcome, /is not a MESH mailbox id/);
    });

    test('a recipient over 100 characters is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/long-to.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-to': 'X'.repeat(101),
      });

      assertRejected(outcome, /mex-to is longer than 100 characters/);
    });
  });

  describe('control characters', () => {
    test('CR/LF in the subject (header injection) is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/crlf.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-subject': 'results%0D%0Amex-To%3A%20X26ABC3',
      });

      assertRejected(outcome, /subject contains control or bidirectional characters/);
    });

    test('a raw tab in the local id is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/tab.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-localid': 'batch\t7',
      });

      assertRejected(outcome, /localId contains control or bidirectional characters/);
    });

    test('NUL in the file name is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/nul.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-filename': 'report%00.exe.csv',
      });

      assertRejected(outcome, /fileName contains control or bidirectional characters/);
    });

    test('ESC in the workflow id is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/esc.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-workflowid': 'TEST%1B_WORKFLOW',
      });

      assertRejected(outcome, /workflowId contains control or bidirectional characters/);
      assert.match(outcome.record?.errorText ?? '', /mex-workflowid may hold only letters, digits/);
    });

    test('a C1 control (NEL) and DEL in the subject are rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/c1.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-subject': 'line%C2%85break%7F',
      });

      assertRejected(outcome, /subject contains control or bidirectional characters/);
    });

    test('a right-to-left override in the file name is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/rtl.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-filename': 'invoice%E2%80%AEfdp.exe',
      });

      assertRejected(outcome, /fileName contains control or bidirectional characters/);
    });

    test('a right-to-left mark (U+200F) in the file name is rejected, not left to fail on the wire', async () => {
      const outcome = await drop('outbound/X26ABC1/rlm.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-filename': 'scan%E2%80%8F.pdf',
      });

      assertRejected(
        outcome,
        /fileName contains characters beyond Latin-1, which a MESH header cannot carry/,
      );
    });

    test('a character beyond Latin-1 in the subject is rejected, not left to fail on the wire', async () => {
      const outcome = await drop('outbound/X26ABC1/euro.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-subject': 'invoice%20%E2%82%AC120',
      });

      assertRejected(outcome, /subject contains characters beyond Latin-1/);
    });

    test('a Unicode line separator in the subject is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/u2028.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-subject': 'one%E2%80%A8two',
      });

      assertRejected(outcome, /subject contains control or bidirectional characters/);
    });
  });

  describe('lengths and encodings', () => {
    test('a subject over 500 characters is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/long-subject.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-subject': 's'.repeat(501),
      });

      assertRejected(outcome, /mex-subject is over 500 characters/);
    });

    test('a local id over 300 characters is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/long-localid.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-localid': 'L'.repeat(301),
      });

      assertRejected(outcome, /mex-localid is over 300 characters/);
    });

    test('a subject that is not valid URL-encoding is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/bad-encoding.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-subject': 'caf%C3%A',
      });

      assertRejected(outcome, /mex-subject is not valid URL-encoding/);
    });

    test('a recipient that is not valid URL-encoding is rejected for that and for having no recipient', async () => {
      const outcome = await drop('outbound/X26ABC1/bad-encoding-to.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-to': '%E0%A4%A',
      });

      assertRejected(outcome, /mex-to is not valid URL-encoding/);
      assert.match(outcome.record?.errorText ?? '', /no recipient/);
    });

    test('a content-compressed flag that is not Y or N is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/flag.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-content-compressed': 'maybe',
      });

      assertRejected(outcome, /mex-content-compressed must be Y or N/);
    });

    test('a checksum with characters MESH refuses is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/checksum.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-content-checksum': 'sha256%3A%3Cscript%3E',
      });

      assertRejected(outcome, /mex-content-checksum may hold only letters, digits/);
    });
  });

  describe('GPPROVIDER_ demographic addresses', () => {
    const gp = (to: string) => ({ ...ADDRESS, 'mex-to': to });

    test('an NHS number with a wrong check digit is rejected', async () => {
      const outcome = await drop(
        'outbound/X26ABC1/gp-check.csv',
        'a,b\n',
        gp('GPPROVIDER_9434765918_19800101_SMITH'),
      );

      assertRejected(outcome, /invalid NHS number \(check digit\)/);
    });

    test('an impossible date of birth (30 February) is rejected', async () => {
      const outcome = await drop(
        'outbound/X26ABC1/gp-date.csv',
        'a,b\n',
        gp(`GPPROVIDER_${VALID_NHS_NUMBER}_20230230_SMITH`),
      );

      assertRejected(outcome, /date of birth that is not a real past date/);
    });

    test('a date of birth in the future is rejected', async () => {
      const outcome = await drop(
        'outbound/X26ABC1/gp-future.csv',
        'a,b\n',
        gp(`GPPROVIDER_${VALID_NHS_NUMBER}_20991231_SMITH`),
      );

      assertRejected(outcome, /date of birth that is not a real past date/);
    });

    test('a surname with digits and punctuation is rejected', async () => {
      const outcome = await drop(
        'outbound/X26ABC1/gp-surname.csv',
        'a,b\n',
        gp(`GPPROVIDER_${VALID_NHS_NUMBER}_19800101_SM1TH;DROP`),
      );

      assertRejected(outcome, /GPPROVIDER address has a malformed surname/);
    });

    test('an address missing its date and surname is rejected', async () => {
      const outcome = await drop(
        'outbound/X26ABC1/gp-parts.csv',
        'a,b\n',
        gp(`GPPROVIDER_${VALID_NHS_NUMBER}`),
      );

      assertRejected(outcome, /GPPROVIDER address must be GPPROVIDER_<NHS number>_<yyyyMMdd>_<surname>/);
    });

    test('an address with every part wrong lists every problem', async () => {
      const outcome = await drop('outbound/X26ABC1/gp-all.csv', 'a,b\n', gp('gpprovider_12345_19991399_'));

      assertRejected(outcome, /invalid NHS number/);
      assert.match(outcome.record?.errorText ?? '', /not a real past date/);
      assert.match(outcome.record?.errorText ?? '', /malformed surname/);
    });
  });

  describe('size', () => {
    test('an empty file is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/empty.csv', '', ADDRESS);

      assertRejected(outcome, /the file is empty: MESH does not accept an empty message/);
    });

    test('a file over MAX_BYTES is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/too-big.bin', '0123456789A', ADDRESS, {
        [ENV.maxBytes]: '10',
      });

      assertRejected(outcome, /the file is 11 bytes, over the limit of 10/);
    });
  });

  describe('names that leak', () => {
    test('a file name that is the S3 key (a path) is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/patients/smith-9434765919.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-filename': 'outbound/X26ABC1/patients/smith-9434765919.csv',
      });

      assertRejected(outcome, /mex-filename must be a bare file name, not a path/);
    });

    test('a file name that is a Windows path is rejected', async () => {
      const outcome = await drop('outbound/X26ABC1/win.csv', 'a,b\n', {
        ...ADDRESS,
        'mex-filename': 'C:%5Cpatients%5Csmith.csv',
      });

      assertRejected(outcome, /mex-filename must be a bare file name, not a path/);
    });

    test('a file with no mex-filename goes out under a name that reveals nothing of its key', async () => {
      const key = 'outbound/X26ABC1/patients/Smith John 9434765919.csv';

      const outcome = await drop(key, 'a,b\n', ADDRESS);

      assert.equal(outcome.record?.status, 'accepted');
      const message = await h.mesh.server.admin.getMessage(outcome.record!.messageId!);
      assert.equal(message?.file_name, `nmp-${outcome.record!.transferId}.csv`);
      assert.doesNotMatch(message?.file_name ?? '', /Smith|9434765919|patients/);
      assert.doesNotMatch(message?.local_id ?? '', /Smith|9434765919|patients/);
      assert.deepEqual(outcome.after.body, outcome.before.body);
    });
  });

  describe('keys', () => {
    test('a file under a mailbox this deployment does not serve is rejected', async () => {
      const outcome = await drop('outbound/X99ZZZ9/results.csv', 'a,b\n', ADDRESS);

      assertRejected(outcome, /sending mailbox X99ZZZ9 is not configured in this deployment/);
    });

    test('a file directly under outbound/, with no mailbox, is rejected', async () => {
      const outcome = await drop('outbound/loose.csv', 'a,b\n', ADDRESS);

      assertRejected(outcome, /key is not under outbound\/\{MAILBOX\}\//);
    });
  });

  test('a file with many faults reports every one of them at once', async () => {
    const outcome = await drop('outbound/X26ABC1/everything.csv', '', {
      'mex-to': 'no such',
      'mex-subject': 'x%0Ay',
      'mex-localid': 'L'.repeat(301),
      'mex-filename': 'a/b.csv',
    });

    assertRejected(outcome, /not a MESH mailbox id/);
    const reasons = outcome.record?.errorText?.split('; ') ?? [];
    assert.equal(reasons.length, 6, outcome.record?.errorText);
  });

  describe('unreadable send-queue messages end in the DLQ with the reason logged', () => {
    async function sendRaw(body: string): Promise<string> {
      const { MessageId } = await h.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: h.sendQueue.url, MessageBody: body }),
      );
      return MessageId!;
    }

    const deadLetters = () => takeRawBodies(h, h.sendQueue.dlq!);

    test('a message that is not JSON', async () => {
      const from = h.logs.length;
      const sqsMessageId = await sendRaw('this is not JSON {');

      await runSend(h);

      const failures = h.logs.slice(from).filter((l) => l.sqsMessageId === sqsMessageId);
      assert.ok(failures.length >= 2, 'retried up to maxReceiveCount');
      assert.equal(failures[0]?.level, 'ERROR');
      assert.deepEqual(failures[0]?.error, {
        name: 'UnreadableTaskError',
        message: 'send-queue message is not JSON',
        code: undefined,
      });
      assert.deepEqual(await deadLetters(), ['this is not JSON {']);
    });

    test('JSON that is neither an S3 event nor a continuation', async () => {
      const from = h.logs.length;
      const sqsMessageId = await sendRaw(JSON.stringify({ hello: 'world' }));

      await runSend(h);

      const failure = h.logs.slice(from).find((l) => l.sqsMessageId === sqsMessageId);
      assert.match(
        (failure?.error as { message?: string }).message ?? '',
        /neither an S3 event nor a continuation/,
      );
      assert.deepEqual(await deadLetters(), [JSON.stringify({ hello: 'world' })]);
    });

    test('a continuation with a forged transfer id', async () => {
      const from = h.logs.length;
      const sqsMessageId = await sendRaw(JSON.stringify({ type: 'continue', transferId: '../../etc' }));

      await runSend(h);

      const failure = h.logs.slice(from).find((l) => l.sqsMessageId === sqsMessageId);
      assert.match((failure?.error as { message?: string }).message ?? '', /no valid transferId/);
      assert.equal((await deadLetters()).length, 1);
    });

    test('an S3 event whose key is not valid URL-encoding', async () => {
      const from = h.logs.length;
      const event = {
        Records: [
          {
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: h.outboundBucket }, object: { key: 'outbound/X26ABC1/%E0%A4%A', size: 1 } },
          },
        ],
      };
      const sqsMessageId = await sendRaw(JSON.stringify(event));

      await runSend(h);

      const failure = h.logs.slice(from).find((l) => l.sqsMessageId === sqsMessageId);
      assert.match((failure?.error as { message?: string }).message ?? '', /URI malformed/);
      assert.equal((await deadLetters()).length, 1);
    });
  });
});
