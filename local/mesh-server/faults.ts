/**
 * Fault injection: rules that make chosen requests fail the way networks and MESH do, so client retry and
 * recovery paths can be tested. The first matching rule that fires wins; `times` counts down as it fires.
 */
import { FaultRuleError } from './errors.js';

export const FAULT_ENDPOINTS = [
  'handshake',
  'inbox',
  'count',
  'head',
  'download',
  'ack',
  'send',
  'chunk',
  'tracking',
  'outbox',
  'lookup',
  'workflowsearch',
] as const;
export type FaultableEndpoint = (typeof FAULT_ENDPOINTS)[number];
export type FaultEndpoint = FaultableEndpoint | '*';

export type FaultAction =
  /** Answer with this status without doing the work. */
  | { type: 'status'; status: number; retryAfterSeconds?: number }
  /** Wait, then handle the request normally. */
  | { type: 'latency'; ms: number }
  /**
   * `request`: read this many body bytes, then drop the connection; the work is not done.
   * `response`: do the work, send the headers and this many body bytes, then drop the connection.
   */
  | { type: 'reset'; phase: 'request' | 'response'; afterBytes: number };

export interface FaultRule {
  endpoint: FaultEndpoint;
  /** Only requests for this mailbox (the one in the path). */
  mailbox?: string;
  /** Only this chunk number: download (1 for the message URL), chunk upload, send (always 1). */
  chunk?: number;
  /** How many times it fires; `'always'` never runs out. @default 1 */
  times?: number | 'always';
  /** Fire on this fraction of matching requests, drawn from a generator seeded with `seed`. */
  probability?: number;
  seed?: number;
  action: FaultAction;
}

/** A rule as listed back: how many firings remain and how many happened. */
export interface FaultRuleState extends FaultRule {
  remaining: number | 'always';
  fired: number;
}

export interface FaultRequest {
  endpoint: FaultableEndpoint;
  mailbox?: string;
  chunk?: number;
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number | 'always';
  fired: number;
  random: () => number;
}

const RULE_KEYS = ['endpoint', 'mailbox', 'chunk', 'times', 'probability', 'seed', 'action'];
const ACTION_KEYS: Record<FaultAction['type'], readonly string[]> = {
  status: ['type', 'status', 'retryAfterSeconds'],
  latency: ['type', 'ms'],
  reset: ['type', 'phase', 'afterBytes'],
};
const MAX_LATENCY_MS = 10 * 60 * 1000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown, min = 0): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min;

/** mulberry32: tiny, seedable, good enough to make a chaos run repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function actionProblems(action: unknown, where: string): string[] {
  if (!isRecord(action)) return [`${where}.action: must be an object`];
  const type = action['type'];
  if (type !== 'status' && type !== 'latency' && type !== 'reset') {
    return [`${where}.action.type: must be "status", "latency" or "reset"`];
  }
  const problems = Object.keys(action)
    .filter((key) => !ACTION_KEYS[type].includes(key))
    .map((key) => `${where}.action: unknown key "${key}" for type ${type}`);
  if (type === 'status') {
    if (!isCount(action['status'], 100) || (action['status'] as number) > 599) {
      problems.push(`${where}.action.status: must be an HTTP status 100..599`);
    }
    if (action['retryAfterSeconds'] !== undefined && !isCount(action['retryAfterSeconds'])) {
      problems.push(`${where}.action.retryAfterSeconds: must be a whole number of seconds`);
    }
  } else if (type === 'latency') {
    if (!isCount(action['ms']) || (action['ms'] as number) > MAX_LATENCY_MS) {
      problems.push(`${where}.action.ms: must be 0..${MAX_LATENCY_MS}`);
    }
  } else {
    if (action['phase'] !== 'request' && action['phase'] !== 'response') {
      problems.push(`${where}.action.phase: must be "request" or "response"`);
    }
    if (!isCount(action['afterBytes']))
      problems.push(`${where}.action.afterBytes: must be a whole number >= 0`);
  }
  return problems;
}

/** Checks untrusted rules (from the admin endpoint) and reports every problem at once. */
export function validateFaultRules(input: unknown): FaultRule[] {
  if (!Array.isArray(input)) throw new FaultRuleError(['rules: must be an array']);
  const problems: string[] = [];
  input.forEach((rule: unknown, i) => {
    const where = `rules[${i}]`;
    if (!isRecord(rule)) {
      problems.push(`${where}: must be an object`);
      return;
    }
    for (const key of Object.keys(rule))
      if (!RULE_KEYS.includes(key)) problems.push(`${where}: unknown key "${key}"`);
    const endpoint = rule['endpoint'];
    if (endpoint !== '*' && !FAULT_ENDPOINTS.includes(endpoint as FaultableEndpoint)) {
      problems.push(`${where}.endpoint: must be "*" or one of ${FAULT_ENDPOINTS.join(', ')}`);
    }
    if (rule['mailbox'] !== undefined && (typeof rule['mailbox'] !== 'string' || rule['mailbox'] === '')) {
      problems.push(`${where}.mailbox: must be a mailbox id`);
    }
    if (rule['chunk'] !== undefined && !isCount(rule['chunk'], 1))
      problems.push(`${where}.chunk: must be >= 1`);
    const times = rule['times'];
    if (times !== undefined && times !== 'always' && !isCount(times, 1)) {
      problems.push(`${where}.times: must be a whole number >= 1 or "always"`);
    }
    const probability = rule['probability'];
    if (
      probability !== undefined &&
      (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))
    ) {
      problems.push(`${where}.probability: must be between 0 and 1`);
    }
    if (rule['seed'] !== undefined && !Number.isSafeInteger(rule['seed']))
      problems.push(`${where}.seed: must be an integer`);
    problems.push(...actionProblems(rule['action'], where));
  });
  if (problems.length > 0) throw new FaultRuleError(problems);
  return input as FaultRule[];
}

export class FaultBook {
  private rules: ActiveRule[] = [];

  /** Replaces every rule. */
  set(rules: readonly FaultRule[]): void {
    const valid = validateFaultRules(rules);
    this.rules = valid.map((rule) => ({
      rule: { ...rule, ...(rule.mailbox ? { mailbox: rule.mailbox.toUpperCase() } : {}) },
      remaining: rule.times ?? 1,
      fired: 0,
      random: seededRandom(rule.seed ?? Math.floor(Math.random() * 2 ** 32)),
    }));
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRuleState[] {
    return this.rules.map(({ rule, remaining, fired }) => ({ ...rule, remaining, fired }));
  }

  /** The action of the first rule that matches and fires, counting it down; undefined when none does. */
  take(request: FaultRequest): FaultAction | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining !== 'always' && active.remaining <= 0) continue;
      if (rule.endpoint !== '*' && rule.endpoint !== request.endpoint) continue;
      if (rule.mailbox !== undefined && rule.mailbox !== request.mailbox) continue;
      if (rule.chunk !== undefined && rule.chunk !== request.chunk) continue;
      if (rule.probability !== undefined && active.random() >= rule.probability) continue;
      if (active.remaining !== 'always') active.remaining -= 1;
      active.fired += 1;
      return rule.action;
    }
    return undefined;
  }
}
