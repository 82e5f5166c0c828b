import { readFile } from 'node:fs/promises';
import {
  MAILBOX_ID_PATTERN,
  MailboxSettingsError,
  parseMailboxSettings,
  type MailboxSettings,
  type MailboxSettingsInput,
} from '../shared/registry/mailbox.js';
import { UsageError } from './errors.js';

export interface MailboxFlags {
  readonly route?: readonly string[];
  readonly 'poll-interval'?: string;
  readonly 'expect-inbound-hours'?: string;
  readonly settings?: string;
}

const WORKFLOW_ID = /^[A-Za-z0-9_.-]{1,300}$/;
export const ROUTE_SYNTAX = 'PREFIX=TO:WORKFLOW';

/**
 * One `--route PREFIX=TO:WORKFLOW`: files dropped under PREFIX go to mailbox TO with workflow WORKFLOW unless their
 * metadata says otherwise. PREFIX is under the mailbox's `outbound/{ID}/` (given relative to it, or in full); TO
 * or WORKFLOW may be left empty (`reports/=:PATH_REPORTS`), not both.
 */
export function parseRoute(
  mailboxId: string,
  text: string,
): { route?: NonNullable<MailboxSettingsInput['routes']>[number]; problems: string[] } {
  const at = text.lastIndexOf('=');
  const colon = text.indexOf(':', at + 1);
  if (at < 0 || colon < 0) {
    return { problems: [`expected ${ROUTE_SYNTAX} (e.g. results/=X26ABC2:PATH_RESULTS)`] };
  }
  const given = text.slice(0, at);
  const to = text.slice(at + 1, colon).trim();
  const workflowId = text.slice(colon + 1).trim();
  const problems: string[] = [];
  if (given === '') problems.push('no PREFIX before "="');
  if (to === '' && workflowId === '') problems.push('neither TO nor WORKFLOW given');
  if (to !== '' && !MAILBOX_ID_PATTERN.test(to)) {
    problems.push(`recipient "${to}" is not a MESH mailbox id (3 to 20 uppercase letters and digits)`);
  }
  if (workflowId !== '' && !WORKFLOW_ID.test(workflowId)) {
    problems.push(`workflow "${workflowId}" is not a MESH workflow id (letters, digits, _ . -)`);
  }
  const prefix = given.startsWith('outbound/') ? given : `outbound/${mailboxId}/${given.replace(/^\/+/, '')}`;
  return {
    route: { prefix, ...(to ? { to } : {}), ...(workflowId ? { workflowId } : {}) },
    problems,
  };
}

/** Settings from the flags of `mailbox add` (or its --settings file), checked with every problem listed at once. */
export async function mailboxSettingsFromFlags(id: string, flags: MailboxFlags): Promise<MailboxSettings> {
  if (flags.settings !== undefined) {
    const mixed = (['route', 'poll-interval', 'expect-inbound-hours'] as const).filter(
      (f) => flags[f] !== undefined,
    );
    if (mixed.length > 0)
      throw new UsageError(`--settings FILE holds the settings: drop --${mixed.join(', --')}`);
    return settingsFromFile(id, flags.settings);
  }
  const problems: string[] = [];
  const routes: NonNullable<MailboxSettingsInput['routes']> = [];
  /** Which --route each parsed route came from, for the schema's problems. */
  const routeFlags: string[] = [];
  for (const [i, text] of (flags.route ?? []).entries()) {
    const parsed = parseRoute(id, text);
    if (parsed.route) {
      routes.push(parsed.route);
      routeFlags.push(`--route ${i + 1} "${text}"`);
    }
    problems.push(...parsed.problems.map((p) => `--route ${i + 1} "${text}": ${p}`));
  }
  const input: MailboxSettingsInput = { id, routes };
  if (flags['poll-interval'] !== undefined) {
    const seconds = parseSeconds(flags['poll-interval']);
    if (seconds === undefined) {
      problems.push(
        `--poll-interval "${flags['poll-interval']}" is not a duration (seconds, or e.g. 10m, 1h)`,
      );
    } else input.pollIntervalSeconds = seconds;
  }
  if (flags['expect-inbound-hours'] !== undefined) {
    const hours = Number(flags['expect-inbound-hours']);
    if (flags['expect-inbound-hours'].trim() === '' || !Number.isFinite(hours)) {
      problems.push(`--expect-inbound-hours "${flags['expect-inbound-hours']}" is not a number of hours`);
    } else input.expectedInboundHours = hours;
  }
  try {
    const settings = parseMailboxSettings(input);
    if (problems.length === 0) return settings;
  } catch (error) {
    if (!(error instanceof MailboxSettingsError)) throw error;
    problems.unshift(...error.problems.map((p) => flagNamesFor(p, routeFlags)));
  }
  throw new UsageError(`invalid mailbox ${id}: ${problems.sort((a, b) => rank(a) - rank(b)).join('; ')}`);
}

/** Problems in the order of the command line: the id, each route in turn, the interval, the inbound window. */
function rank(problem: string): number {
  const route = /^--route (\d+) /.exec(problem);
  if (route) return 1 + Number(route[1]) / 1e6;
  if (problem.startsWith('--poll-interval')) return 2;
  if (problem.startsWith('--expect-inbound-hours')) return 3;
  return problem.startsWith('id:') ? 0 : 4;
}

async function settingsFromFile(id: string, path: string): Promise<MailboxSettings> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `cannot read --settings ${path}: ${(error as { code?: string }).code === 'ENOENT' ? 'no such file' : 'not JSON'}`,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--settings ${path} must hold a JSON object (MailboxSettingsInput)`);
  }
  const given = (value as { id?: unknown }).id;
  if (given !== undefined && given !== id) {
    throw new UsageError(`--settings ${path} is for mailbox ${String(given)}, not ${id}`);
  }
  try {
    return parseMailboxSettings({ ...value, id });
  } catch (error) {
    if (error instanceof MailboxSettingsError) {
      throw new UsageError(`invalid mailbox ${id} in ${path}: ${error.problems.join('; ')}`);
    }
    throw error;
  }
}

/** Seconds, or a number with s, m or h. */
export function parseSeconds(text: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h)?$/i.exec(text.trim());
  if (!m) return undefined;
  const factor = { s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h'];
  return Number(m[1]) * factor;
}

/** The settings' field names as the flags that set them. */
function flagNamesFor(problem: string, routeFlags: readonly string[]): string {
  return problem
    .replace(/^routes\.(\d+)\.prefix:/, (_, i: string) => `${routeFlags[Number(i)] ?? `route ${i}`}:`)
    .replace(/^pollIntervalSeconds:/, '--poll-interval (seconds):')
    .replace(/^expectedInboundHours:/, '--expect-inbound-hours:');
}
