import { createHash } from 'node:crypto';
import { seededRandom } from '../../local/chaos/random.js';

/**
 * Which messages the mailboxes benchmark puts into which inbox, and when. Half of them (rounded down) go to one
 * mailbox, the busy one, all at the start: a backlog. The rest go round-robin to the other mailboxes (quiet ones),
 * each at its own time drawn uniformly over `quietOverMs`, so they arrive at a steady rate throughout the run
 * instead of as a second backlog: what is measured for them is the wait for their mailbox's next poll and for a
 * download slot beside the busy mailbox's backlog, which is what fairness is about, not how long the machine takes
 * to work through 5,000 messages that all arrived at once.
 */
export interface MailboxPlanOptions {
  readonly mailboxes: number;
  readonly messages: number;
  /** Quiet messages arrive over this long from the start. */
  readonly quietOverMs: number;
  readonly bodyBytes: number;
  readonly seed: number;
}

export interface PlannedMessage {
  readonly index: number;
  readonly mailbox: string;
  readonly busy: boolean;
  /** When to seed it, from the start of the run. */
  readonly atOffsetMs: number;
  readonly body: string;
  readonly sha256: string;
}

/** The mailbox ids of the run: `MB00000`, `MB00001`, ...; the first is the busy one. */
export function benchMailboxIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `MB${String(i).padStart(5, '0')}`);
}

/** The mailbox every message comes from: on the MESH server, not in the pipeline's registry. */
export const BENCH_SENDER = 'MBSENDER';

export const BENCH_WORKFLOW = 'BENCH_WORKFLOW';

/** Every message of the run, in seeding order (by `atOffsetMs`, then index). */
export function planMessages(options: MailboxPlanOptions): PlannedMessage[] {
  if (options.mailboxes < 2) throw new Error('the benchmark needs at least 2 mailboxes');
  const ids = benchMailboxIds(options.mailboxes);
  const busyCount = Math.floor(options.messages / 2);
  const random = seededRandom(options.seed);
  const plan: PlannedMessage[] = [];
  for (let index = 0; index < options.messages; index++) {
    const busy = index < busyCount;
    const quietIndex = index - busyCount;
    const mailbox = busy ? ids[0]! : ids[1 + (quietIndex % (ids.length - 1))]!;
    const atOffsetMs = busy ? 0 : Math.floor(random() * options.quietOverMs);
    const body = messageBody(options.seed, index, mailbox, options.bodyBytes);
    plan.push({
      index,
      mailbox,
      busy,
      atOffsetMs,
      body,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  }
  return plan.sort((a, b) => a.atOffsetMs - b.atOffsetMs || a.index - b.index);
}

/** Readable, deterministic text of about `bytes` bytes. */
function messageBody(seed: number, index: number, mailbox: string, bytes: number): string {
  const head = `mailboxes benchmark, seed ${seed}, message ${index} for ${mailbox}\n`;
  const line = `${index},${mailbox},${'x'.repeat(60)}\n`;
  let body = head;
  while (body.length < bytes) body += line;
  return body.slice(0, Math.max(head.length, bytes));
}
