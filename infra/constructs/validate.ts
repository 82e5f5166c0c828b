import { Token } from 'aws-cdk-lib';
import { MAILBOX_ID_PATTERN } from '../../shared/config/mailboxes.js';
import {
  MAX_REQUEST_BYTES,
  MESH_ENVIRONMENTS,
  MIN_NON_FINAL_CHUNK_BYTES,
} from '../../shared/mesh/protocol.js';
import { KEY_LAYOUT } from '../../shared/wiring/pipeline.js';
import type { MeshMailboxProps, MeshPipelineProps } from './props.js';

/** Synthesis stops here, listing every configuration problem at once so that one fix-and-retry fixes them all. */
export class MeshPipelineConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`MESH pipeline configuration is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'MeshPipelineConfigError';
  }
}

/** Secrets Manager's own rule for names, without its ARN-like suffix (a name ending -XXXXXX is ambiguous). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ROUTE_FIELDS = ['to', 'workflowId', 'subject', 'contentType'] as const;
/** Lambda allows 4 KB for all of a function's environment variables; MAILBOXES must leave room for the rest. */
const MAX_MAILBOXES_JSON_BYTES = 2_500;
/** A Secrets Manager ARN is at most this long; it replaces the name in MAILBOXES. */
const SECRET_ARN_ALLOWANCE = 120;
const MAX_ALARM_WINDOW_HOURS = 7 * 24;

/** Every problem with the props, in the order of the props; empty when they are valid. */
export function validateMeshPipelineProps(props: MeshPipelineProps): string[] {
  const problems: string[] = [];
  checkEnvironment(props.meshEnvironment, problems);
  checkMailboxes(props.mailboxes, problems);
  if (props.chunkBytes !== undefined) checkChunkBytes(props.chunkBytes, problems);
  if (props.alarms?.email !== undefined && !EMAIL.test(props.alarms.email)) {
    problems.push(`alarms.email "${props.alarms.email}" is not an email address`);
  }
  checkWholeNumber('workQueueAgeAlarmMinutes', props.workQueueAgeAlarmMinutes, 1, 24 * 60, problems);
  checkWholeNumber('eventQueueAgeAlarmMinutes', props.eventQueueAgeAlarmMinutes, 1, 14 * 24 * 60, problems);
  return problems;
}

export function assertValidMeshPipelineProps(props: MeshPipelineProps): void {
  const problems = validateMeshPipelineProps(props);
  if (problems.length > 0) throw new MeshPipelineConfigError(problems);
}

function checkEnvironment(value: unknown, problems: string[]): void {
  const names = Object.keys(MESH_ENVIRONMENTS).join(', ');
  if (typeof value !== 'string' || value === '') {
    problems.push(`environment is missing: use one of ${names}, or an https:// URL`);
    return;
  }
  if (Object.hasOwn(MESH_ENVIRONMENTS, value)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`environment "${value}" is unknown: use one of ${names}, or an https:// URL`);
    return;
  }
  // Credentials must never cross a network unencrypted; Lambda cannot reach a loopback MESH anyway.
  if (url.protocol !== 'https:') problems.push(`environment URL "${value}" must use https://`);
  if (url.username || url.password) problems.push(`environment URL "${value}" must not hold credentials`);
  if (url.search || url.hash) problems.push(`environment URL "${value}" must not have a query or fragment`);
}

function checkMailboxes(mailboxes: readonly MeshMailboxProps[] | undefined, problems: string[]): void {
  if (!Array.isArray(mailboxes) || mailboxes.length === 0) {
    problems.push('mailboxes is empty: configure at least one mailbox');
    return;
  }
  const ids = new Set<string>();
  const secretNames = new Set<string>();
  mailboxes.forEach((mailbox, index) => {
    const label =
      typeof mailbox.id === 'string' && mailbox.id ? `mailbox ${mailbox.id}` : `mailboxes[${index}]`;
    if (typeof mailbox.id !== 'string' || !MAILBOX_ID_PATTERN.test(mailbox.id)) {
      problems.push(
        `mailboxes[${index}].id "${String(mailbox.id)}" is not a MESH mailbox id (3 to 20 uppercase letters and digits)`,
      );
    } else if (ids.has(mailbox.id)) {
      problems.push(`mailbox ${mailbox.id} is listed twice`);
    }
    ids.add(mailbox.id);
    checkSecretName(label, mailbox.secretName, secretNames, problems);
    checkWholeNumber(`${label}: pollEveryMinutes`, mailbox.pollEveryMinutes, 1, 24 * 60, problems);
    checkWholeNumber(
      `${label}: expectInboundWithinHours`,
      mailbox.expectInboundWithinHours,
      1,
      MAX_ALARM_WINDOW_HOURS,
      problems,
    );
    checkRoutes(label, mailbox, problems);
  });
}

function checkSecretName(label: string, name: unknown, seen: Set<string>, problems: string[]): void {
  if (typeof name !== 'string' || name === '') {
    problems.push(`${label}: secretName is missing`);
    return;
  }
  if (Token.isUnresolved(name)) return;
  if (!SECRET_NAME.test(name) || /-[A-Za-z0-9]{6}$/.test(name)) {
    problems.push(
      `${label}: secretName "${name}" is not a usable secret name (letters, digits and /_+=.@- only, ` +
        'and not ending in a hyphen and six characters)',
    );
  }
  if (seen.has(name)) problems.push(`${label}: secretName "${name}" is used by another mailbox`);
  seen.add(name);
}

function checkRoutes(label: string, mailbox: MeshMailboxProps, problems: string[]): void {
  const routes = mailbox.routes ?? [];
  if (!Array.isArray(routes)) {
    problems.push(`${label}: routes must be a list`);
    return;
  }
  const prefix =
    typeof mailbox.id === 'string' ? KEY_LAYOUT.outboundPrefix(mailbox.id) : 'outbound/{MAILBOX}/';
  const prefixes = new Set<string>();
  routes.forEach((route, index) => {
    if (typeof route.prefix !== 'string' || !route.prefix.startsWith(prefix)) {
      problems.push(`${label}: routes[${index}].prefix "${String(route.prefix)}" is not under ${prefix}`);
    } else if (prefixes.has(route.prefix)) {
      problems.push(`${label}: two routes have the prefix ${route.prefix}`);
    }
    prefixes.add(route.prefix);
    for (const field of ROUTE_FIELDS) {
      const value: unknown = route[field];
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        problems.push(`${label}: routes[${index}].${field} must be a non-empty string`);
      }
    }
  });
  const json = JSON.stringify([{ id: mailbox.id, secretId: '', routes }]);
  if (json.length + SECRET_ARN_ALLOWANCE > MAX_MAILBOXES_JSON_BYTES) {
    problems.push(
      `${label}: its routes take ${json.length} bytes of the functions' environment, over the ` +
        `${MAX_MAILBOXES_JSON_BYTES - SECRET_ARN_ALLOWANCE} Lambda leaves room for: use fewer or shorter routes`,
    );
  }
}

function checkChunkBytes(value: number, problems: string[]): void {
  if (!Number.isSafeInteger(value) || value <= MIN_NON_FINAL_CHUNK_BYTES || value > MAX_REQUEST_BYTES) {
    problems.push(
      `chunkBytes ${value} is out of range: MESH needs more than ${MIN_NON_FINAL_CHUNK_BYTES} (5 MB) ` +
        `and at most ${MAX_REQUEST_BYTES} (100 MB)`,
    );
  }
}

function checkWholeNumber(
  label: string,
  value: number | undefined,
  min: number,
  max: number,
  problems: string[],
): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${label} must be a whole number from ${min} to ${max}, not ${String(value)}`);
  }
}
