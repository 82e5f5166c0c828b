import { API_PREFIX, DEFAULT_PAGE_SIZE, type InboxPageBody } from '../../../shared/mesh/protocol.js';
import type { LocalMailbox } from '../config.js';
import { decodeContinueFrom, encodeContinueFrom, type InboxCursor } from '../continue-token.js';
import type { MessageRecord } from '../message.js';
import { validationError, type ValidationIssue } from '../mesh-errors.js';
import { jsonReply, type Reply } from '../reply.js';
import {
  parseWorkflowFilter,
  WORKFLOW_FILTER_MAX_LENGTH,
  WORKFLOW_FILTER_MIN_LENGTH,
  type WorkflowMatcher,
} from '../workflow-filter.js';
import type { MeshRequest } from './context.js';

export const MIN_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 5000;
const CONTINUE_FROM_MIN = 24;
const CONTINUE_FROM_MAX = 1000;

interface InboxQuery {
  maxResults: number;
  workflowFilter?: string;
  continueFrom?: string;
  cursor?: InboxCursor;
}

function readQuery(params: URLSearchParams, mailbox: string): InboxQuery {
  const issues: ValidationIssue[] = [];
  const rawMax = params.get('max_results');
  let maxResults = DEFAULT_PAGE_SIZE;
  if (rawMax !== null) {
    if (!/^\d+$/.test(rawMax.trim())) {
      issues.push({
        loc: ['query', 'max_results'],
        msg: 'value is not a valid integer',
        type: 'type_error.integer',
      });
    } else {
      maxResults = Number(rawMax.trim());
      if (maxResults < MIN_PAGE_SIZE || maxResults > MAX_PAGE_SIZE) {
        const low = maxResults < MIN_PAGE_SIZE;
        issues.push({
          loc: ['query', 'max_results'],
          msg: `ensure this value is ${low ? 'greater' : 'less'} than or equal to ${low ? MIN_PAGE_SIZE : MAX_PAGE_SIZE}`,
          type: low ? 'value_error.number.not_ge' : 'value_error.number.not_le',
          ctx: { limit_value: low ? MIN_PAGE_SIZE : MAX_PAGE_SIZE },
        });
      }
    }
  }
  const workflowFilter = params.get('workflow_filter') ?? undefined;
  if (
    workflowFilter !== undefined &&
    (workflowFilter.length < WORKFLOW_FILTER_MIN_LENGTH || workflowFilter.length > WORKFLOW_FILTER_MAX_LENGTH)
  ) {
    issues.push({
      loc: ['query', 'workflow_filter'],
      msg: `ensure this value has ${WORKFLOW_FILTER_MIN_LENGTH} to ${WORKFLOW_FILTER_MAX_LENGTH} characters`,
      type: 'value_error.any_str.length',
    });
  }
  const continueFrom = params.get('continue_from') ?? undefined;
  let cursor: InboxCursor | undefined;
  if (continueFrom !== undefined) {
    const lengthOk = continueFrom.length >= CONTINUE_FROM_MIN && continueFrom.length <= CONTINUE_FROM_MAX;
    cursor = lengthOk ? decodeContinueFrom(continueFrom, mailbox) : undefined;
    if (!cursor) {
      issues.push({
        loc: ['query', 'continue_from'],
        msg: 'invalid continue_from token',
        type: 'value_error',
      });
    }
  }
  if (issues.length > 0) throw validationError(issues);
  return { maxResults, workflowFilter, continueFrom, cursor };
}

function inboxLink(mailbox: string, query: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, value);
  const qs = search.toString();
  return `${API_PREFIX}/${encodeURIComponent(mailbox)}/inbox${qs ? `?${qs}` : ''}`;
}

/**
 * Pages like the DynamoDB query behind real MESH: `max_results` messages are read, then the workflow filter
 * drops some of them, so a filtered page can be short or even empty while `links.next` says more remain.
 */
function readPage(inbox: Iterable<MessageRecord>, query: InboxQuery, matches: WorkflowMatcher | undefined) {
  const afterSeq = query.cursor?.afterSeq ?? 0;
  const messages: string[] = [];
  let read = 0;
  let lastSeq = afterSeq;
  let more = false;
  for (const record of inbox) {
    const seq = record.inboxSeq ?? 0;
    if (seq <= afterSeq) continue;
    if (read === query.maxResults) {
      more = true;
      break;
    }
    read += 1;
    lastSeq = seq;
    if (!matches || matches(record.workflowId)) messages.push(record.messageId);
  }
  return { messages, lastSeq, more };
}

export async function listInbox(
  { url, state }: MeshRequest,
  mailbox: Readonly<LocalMailbox>,
): Promise<Reply> {
  const query = readQuery(url.searchParams, mailbox.id);
  const matches = query.workflowFilter !== undefined ? parseWorkflowFilter(query.workflowFilter) : undefined;
  const page = readPage(state.mailroom.inbox(mailbox.id), query, matches);
  const linkQuery = {
    max_results: query.maxResults !== DEFAULT_PAGE_SIZE ? String(query.maxResults) : undefined,
    workflow_filter: query.workflowFilter,
  };
  const links: { self: string; next?: string } = {
    self: inboxLink(mailbox.id, { ...linkQuery, continue_from: query.continueFrom }),
  };
  if (page.more) {
    const token = encodeContinueFrom({ mailbox: mailbox.id, afterSeq: page.lastSeq });
    links.next = inboxLink(mailbox.id, { ...linkQuery, continue_from: token });
  }
  const body: InboxPageBody = {
    messages: page.messages,
    links,
    approx_inbox_count: state.mailroom.inboxSize(mailbox.id),
  };
  const at = state.config.now();
  state.listings.record({
    mailbox: mailbox.id,
    at: at.toISOString(),
    atMs: at.getTime(),
    page: query.cursor ? 'continuation' : 'first',
    messages: page.messages.length,
    more: page.more,
  });
  return jsonReply(200, body);
}

/** Deprecated but still served: how many messages wait in the inbox. */
export async function countInbox({ state }: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  return jsonReply(200, { count: state.mailroom.inboxSize(mailbox.id) });
}
