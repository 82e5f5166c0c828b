/**
 * SQS fair queues on fauxqs standard queues. In AWS, a standard queue whose messages carry a MessageGroupId (the
 * tenant) is a fair queue: when one group has many messages in flight, messages of the other groups are delivered
 * first, so a quiet tenant's messages do not wait behind a noisy tenant's backlog. fauxqs 1.9 accepts the
 * parameter on a standard queue but drops it; this module keeps it and orders receives by it, without editing
 * node_modules:
 *
 * - `captureGroupIds` runs as a fastify `preHandler` hook, after the body is parsed and before fauxqs' handler:
 *   for a SendMessage or SendMessageBatch entry to a standard queue that names a MessageGroupId, it remembers the
 *   group against the entry's MessageAttributes object (giving it an empty one if it had none, which fauxqs treats
 *   exactly as absent). fauxqs builds the message from that very object, so `enqueue` finds the group again and
 *   stores it as `messageGroupId`, where ReceiveMessage's `MessageGroupId` system attribute already reads it.
 * - `fairQueue` wraps `dequeue` of a standard queue: before fauxqs takes messages from the front of `messages`,
 *   the ones it should take are moved there. Each pick goes to the group with the fewest messages in flight
 *   (counting the picks of this receive), ties to the message that has waited longest; a message without a group
 *   counts as a group of its own with nothing in flight. A queue whose messages carry no group is received in the
 *   same order as before. fauxqs then does the rest as ever: visibility, receive counts, DLQ moves.
 *
 * FIFO queues are left alone: fauxqs implements their groups itself.
 */

/** The parts of a fauxqs 1.9 message (dist/sqs/sqsStore.js) that fairness reads. */
export interface FairMessage {
  messageGroupId?: string;
  messageAttributes: object;
}

/** The parts of a fauxqs 1.9 SqsQueue that fairness reads and wraps. */
export interface FairQueue {
  messages: FairMessage[];
  inflightMessages: Map<string, { message: FairMessage }>;
  isFifo(): boolean;
  processTimers(): void;
  enqueue(message: FairMessage): void;
  dequeue(maxCount: number, visibilityTimeoutOverride: number | undefined, dlqResolver: unknown): unknown[];
}

/** Group ids of standard-queue messages on their way in, keyed by the MessageAttributes object they travel with. */
export type PendingGroups = WeakMap<object, string>;

const SEND_TARGETS = new Set(['AmazonSQS.SendMessage', 'AmazonSQS.SendMessageBatch']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function keepGroup(entry: unknown, pending: PendingGroups): void {
  if (!isRecord(entry)) return;
  const group = entry['MessageGroupId'];
  if (typeof group !== 'string' || group === '') return;
  const attributes = entry['MessageAttributes'] ?? (entry['MessageAttributes'] = {});
  if (isRecord(attributes)) pending.set(attributes, group);
}

/**
 * Remembers the MessageGroupId of each message sent to a standard queue (see the module comment). `isStandard`
 * says whether a queue URL names an existing standard queue.
 */
export function captureGroupIds(
  target: unknown,
  body: unknown,
  isStandard: (queueUrl: string) => boolean,
  pending: PendingGroups,
): void {
  if (typeof target !== 'string' || !SEND_TARGETS.has(target) || !isRecord(body)) return;
  const queueUrl = body['QueueUrl'];
  if (typeof queueUrl !== 'string' || !isStandard(queueUrl)) return;
  if (target === 'AmazonSQS.SendMessage') keepGroup(body, pending);
  else if (Array.isArray(body['Entries'])) for (const entry of body['Entries']) keepGroup(entry, pending);
}

/** Makes a standard queue fair between message groups; FIFO queues are returned untouched. */
export function fairQueue(queue: FairQueue, pending: PendingGroups): void {
  if (queue.isFifo()) return;
  const enqueue = queue.enqueue.bind(queue);
  queue.enqueue = (message) => {
    const group = pending.get(message.messageAttributes);
    if (group !== undefined && message.messageGroupId === undefined) message.messageGroupId = group;
    enqueue(message);
  };
  const dequeue = queue.dequeue.bind(queue);
  queue.dequeue = (maxCount, visibilityTimeoutOverride, dlqResolver) => {
    preferQuietGroups(queue, Math.min(maxCount, 10));
    return dequeue(maxCount, visibilityTimeoutOverride, dlqResolver);
  };
}

/** Messages in flight per group. */
function inFlightByGroup(queue: FairQueue): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { message } of queue.inflightMessages.values()) {
    const group = message.messageGroupId;
    if (group !== undefined) counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return counts;
}

interface Lane {
  /** Messages of the group in flight before this receive. */
  inFlight: number;
  /** Positions in `messages` of the group's oldest waiting messages, at most one receive's worth. */
  positions: number[];
  taken: number;
}

/**
 * Moves the `count` messages a fair queue would deliver next to the front of `messages`, in delivery order. The
 * scan stops early once `count` groups with nothing in flight have been seen: nothing later can beat them.
 */
export function preferQuietGroups(queue: FairQueue, count: number): void {
  if (count < 1) return;
  // Expired visibility timeouts and finished delays first, as fauxqs' own dequeue does.
  queue.processTimers();
  const messages = queue.messages;
  if (messages.length <= 1) return;
  const inFlight = inFlightByGroup(queue);
  const lanes = new Map<unknown, Lane>();
  let idleLanes = 0;
  for (let position = 0; position < messages.length && idleLanes < count; position++) {
    const message = messages[position]!;
    const group = message.messageGroupId;
    let lane = lanes.get(group ?? message);
    if (!lane) {
      lane = { inFlight: group === undefined ? 0 : (inFlight.get(group) ?? 0), positions: [], taken: 0 };
      lanes.set(group ?? message, lane);
      if (lane.inFlight === 0) idleLanes++;
    }
    if (lane.positions.length < count) lane.positions.push(position);
  }
  const candidates = [...lanes.values()];
  const picks: number[] = [];
  while (picks.length < count) {
    let best: Lane | undefined;
    for (const lane of candidates) {
      if (lane.taken >= lane.positions.length) continue;
      if (
        !best ||
        lane.inFlight + lane.taken < best.inFlight + best.taken ||
        (lane.inFlight + lane.taken === best.inFlight + best.taken &&
          lane.positions[lane.taken]! < best.positions[best.taken]!)
      )
        best = lane;
    }
    if (!best) break;
    picks.push(best.positions[best.taken++]!);
  }
  if (picks.every((position, i) => position === i)) return;
  const picked = new Set(picks);
  queue.messages = [...picks.map((p) => messages[p]!), ...messages.filter((_, p) => !picked.has(p))];
}
