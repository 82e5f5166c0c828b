import { Token } from 'aws-cdk-lib';
import {
  MAX_REQUEST_BYTES,
  MESH_ENVIRONMENTS,
  MIN_NON_FINAL_CHUNK_BYTES,
} from '../../shared/mesh/protocol.js';
import { checkConsoleProps } from './console/validate.js';
import { checkEventsProps } from './event-delivery.js';
import { checkSeedMailboxes } from './mailboxes.js';
import { checkSecuritySettings } from './security-settings.js';
import type { MeshPipelineProps } from './props.js';

/** Synthesis stops here, listing every configuration problem at once so that one fix-and-retry fixes them all. */
export class MeshPipelineConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`MESH pipeline configuration is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'MeshPipelineConfigError';
  }
}

/** The characters Secrets Manager allows in a secret name. */
const SECRET_NAME_CHARACTERS = /^[A-Za-z0-9/_+=.@-]+$/;
/** Secrets Manager allows 512 characters; the longest mailbox id is 20. */
const MAX_SECRET_PREFIX_LENGTH = 512 - 20;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Every problem with the props, in the order of the props; empty when they are valid. */
export function validateMeshPipelineProps(props: MeshPipelineProps): string[] {
  const problems: string[] = [];
  checkEnvironment(props.meshEnvironment, problems);
  checkSecretPrefix(props.secretPrefix, problems);
  checkSeedMailboxes(props.mailboxes, problems);
  if (props.chunkBytes !== undefined) checkChunkBytes(props.chunkBytes, problems);
  if (props.alarms?.email !== undefined && !EMAIL.test(props.alarms.email)) {
    problems.push(`alarms.email "${props.alarms.email}" is not an email address`);
  }
  checkWholeNumber('workQueueAgeAlarmMinutes', props.workQueueAgeAlarmMinutes, 1, 24 * 60, problems);
  checkWholeNumber('eventQueueAgeAlarmMinutes', props.eventQueueAgeAlarmMinutes, 1, 14 * 24 * 60, problems);
  checkSecuritySettings(props, problems);
  checkConsoleProps(props.console, problems);
  checkEventsProps(props.events, problems);
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

/**
 * The prefix is the IAM boundary of the deployment's secrets (`secret:{prefix}*`), so it must be a literal name
 * ending in `/`: without the slash, `mesh/a` would also cover another deployment's `mesh/ab/...`.
 */
function checkSecretPrefix(value: unknown, problems: string[]): void {
  if (typeof value !== 'string' || value === '') {
    problems.push(
      "secretPrefix is missing: name the prefix of this deployment's mailbox secrets, e.g. nhs-mesh-pipeline/production/",
    );
    return;
  }
  if (Token.isUnresolved(value)) return;
  if (!SECRET_NAME_CHARACTERS.test(value) || !value.endsWith('/') || value.startsWith('/')) {
    problems.push(
      `secretPrefix "${value}" is not a usable secret name prefix: letters, digits and /_+=.@- only, ` +
        'not starting with / and ending with /',
    );
  }
  if (value.includes('//')) problems.push(`secretPrefix "${value}" has an empty path segment (//)`);
  if (value.length > MAX_SECRET_PREFIX_LENGTH) {
    problems.push(`secretPrefix is ${value.length} characters long: at most ${MAX_SECRET_PREFIX_LENGTH}`);
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
