import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';
import { KEY_LAYOUT } from '../../shared/wiring/pipeline.js';
import { bold, green, red, stamp } from './console.js';
import type { LocalPipeline } from './local-pipeline.js';

export interface DemoResult {
  readonly ok: boolean;
  readonly transferId?: string;
  readonly messageId?: string;
  readonly inboundKey?: string;
  readonly missing: readonly string[];
}

const SAMPLE = [
  'nhs_number,test,result,reported_at',
  '9434765919,HbA1c,41 mmol/mol,2026-11-21T09:00:00Z',
  '9434765870,eGFR,78 mL/min/1.73m2,2026-11-21T09:05:00Z',
  '',
].join('\n');

/**
 * Sends a sample file from the first mailbox to the second and follows it: transfer status, MESH message id,
 * arrival in the recipient's inbound bucket, the inbound event, and the outbound `delivered` status.
 */
export async function runDemo(
  pipeline: LocalPipeline,
  say: (line: string) => void,
  timeoutMs = 90_000,
): Promise<DemoResult> {
  const [from, to] = pipeline.mailboxes;
  if (!from || !to) throw new Error('the demo needs two mailboxes');
  const key = `${KEY_LAYOUT.outboundPrefix(from.id)}demo/results-${Date.now()}.csv`;
  const seen = new Set<string>();
  let transferId: string | undefined;
  let messageId: string | undefined;
  let inbound: InboundEventV1 | undefined;
  let failure: string | undefined;

  const done = new Promise<void>((resolve) => {
    const stop = pipeline.events.on(({ kind, event }) => {
      if (kind === 'status') {
        const status = event as OutboundStatusEventV1;
        if (status.key !== key) return;
        transferId = status.transferId;
        messageId ??= status.messageId;
        seen.add(status.status);
        if (['rejected', 'failed', 'undeliverable'].includes(status.status))
          failure = status.error?.text ?? status.status;
      } else {
        const arrived = event as InboundEventV1;
        if (arrived.messageId !== messageId || arrived.mailbox !== to.id) return;
        inbound = arrived;
        seen.add('inbound');
      }
      if (failure || (seen.has('delivered') && inbound)) {
        stop();
        resolve();
      }
    });
    setTimeout(resolve, timeoutMs).unref();
  });

  say(`${stamp()} ${bold('demo')}: sending a sample file from ${from.id} to ${to.id}`);
  await pipeline.clients.s3.send(
    new PutObjectCommand({
      Bucket: pipeline.resources.outboundBucket,
      Key: key,
      Body: SAMPLE,
      ContentType: 'text/csv',
      Metadata: {
        'mex-to': to.id,
        'mex-workflowid': 'TEST_WORKFLOW',
        'mex-subject': encodeURIComponent('nhs-mesh-pipeline demo'),
        'mex-filename': 'results.csv',
        'mex-content-type': 'text/csv',
      },
    }),
  );
  say(`${stamp()} uploaded s3://${pipeline.resources.outboundBucket}/${key} (${SAMPLE.length} bytes)`);
  await done;

  const steps: [string, boolean][] = [
    ['received', seen.has('received')],
    ['sending', seen.has('sending')],
    ['accepted by MESH', seen.has('accepted')],
    [`stored in ${to.id}'s inbound bucket, inbound event emitted`, inbound !== undefined],
    ['delivered (acknowledged by the recipient)', seen.has('delivered')],
  ];
  const missing = steps.filter(([, ok]) => !ok).map(([name]) => name);
  const ok = missing.length === 0 && !failure;
  say('');
  say(bold('demo journey'));
  for (const [name, passed] of steps) say(`  ${passed ? green('✔') : red('✘')} ${name}`);
  if (messageId) say(`  MESH message id: ${messageId}`);
  if (inbound) say(`  stored at: s3://${inbound.bucket}/${inbound.key}`);
  if (failure) say(`  ${red('failed')}: ${failure}`);
  say(ok ? green('demo complete: the whole journey worked') : red(`demo incomplete: ${missing.join(', ')}`));
  return { ok, transferId, messageId, inboundKey: inbound?.key, missing };
}
