/** Options of the local MESH server, their validation, and the JSON config file the `mesh server` command reads. */
import { readFile } from 'node:fs/promises';
import { MAX_REQUEST_BYTES } from '../../shared/mesh/protocol.js';
import { MeshServerConfigError } from './errors.js';
import type { MeshServerLogLine } from './log.js';

export interface LocalMailbox {
  id: string;
  password: string;
  ods?: string;
  name?: string;
  /** Shown as `recipient_org_code` in tracking. */
  orgCode?: string;
  /** Shown as `recipient_org_name` in tracking. */
  orgName?: string;
}

export interface LocalWorkflow {
  id: string;
  senders: string[];
  receivers: string[];
}

export interface MeshServerTlsOptions {
  cert: string;
  key: string;
  /** The CA(s) client certificates must chain to. */
  ca: string | string[];
}

export interface MeshServerOptions {
  mailboxes: LocalMailbox[];
  workflows?: LocalWorkflow[];
  sharedSecret: string;
  /** HTTPS that demands a client certificate from `ca`; plain HTTP when omitted. */
  tls?: MeshServerTlsOptions;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Keeps messages and chunks in this directory across restarts; in memory when omitted. */
  storeDir?: string;
  /** The server's clock: token window, timestamps, message ids and expiry all read it. */
  now?: () => Date;
  /**
   * Require the sender to be registered as a sender, and the recipient as a receiver, of the workflow (code 17).
   * @default false
   */
  enforceWorkflows?: boolean;
  /**
   * With TLS, the client certificate CN must start with `<mailbox>.` for the mailbox in the path.
   * @default true
   */
  bindCertificateToMailbox?: boolean;
  /** Receives one structured line per request; nothing is logged when omitted. Never gets secrets or bodies. */
  log?: (line: MeshServerLogLine) => void;
  /** Test knobs; the defaults are MESH's own limits. */
  limits?: { maxRequestBytes?: number };
  /**
   * `trackingLagMs`: how long a sent message stays invisible to tracking by local id and to the outbox listing
   * after its upload, as when the real service's tracking lags (admin `setTrackingLag` changes it at run time).
   * @default 0
   */
  trackingLagMs?: number;
}

/** What the JSON config file holds. */
export interface MeshServerConfigFile {
  mailboxes: LocalMailbox[];
  workflows?: LocalWorkflow[];
  sharedSecret: string;
}

/**
 * Options after validation: ids uppercased, defaults applied. The two maps grow at run time when the admin API adds
 * a mailbox (`admin.addMailbox`); everything else reads them.
 */
export interface ResolvedServerConfig {
  readonly mailboxes: Map<string, Readonly<LocalMailbox>>;
  readonly workflows: Map<string, LocalWorkflow>;
  readonly sharedSecret: string;
  readonly tls?: MeshServerTlsOptions;
  readonly host: string;
  readonly port: number;
  readonly storeDir?: string;
  readonly now: () => Date;
  readonly enforceWorkflows: boolean;
  readonly bindCertificateToMailbox: boolean;
  readonly log?: (line: MeshServerLogLine) => void;
  readonly maxRequestBytes: number;
  readonly trackingLagMs: number;
}

const MAILBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const RESERVED_PATH_SEGMENTS = new Set(['ADMIN', 'ENDPOINTLOOKUP', 'WORKFLOWSEARCH', '_PING']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
  problems: string[],
) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(`${where}: unknown key "${key}"`);
  }
}

/**
 * Problems with one mailbox definition, each prefixed with `where`; the uppercased id when it is usable. Used for
 * the configured mailboxes and for one added at run time.
 */
export function singleMailboxProblems(
  mailbox: LocalMailbox,
  where: string,
  problems: string[],
  seen: Set<string> = new Set(),
): string | undefined {
  if (typeof mailbox !== 'object' || mailbox === null) {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  if (typeof mailbox.id !== 'string' || !MAILBOX_ID.test(mailbox.id)) {
    problems.push(`${where}.id: must be 1-100 letters, digits, "_" or "-"`);
    return undefined;
  }
  const id = mailbox.id.toUpperCase();
  if (RESERVED_PATH_SEGMENTS.has(id)) problems.push(`${where}.id: "${mailbox.id}" collides with a MESH path`);
  if (seen.has(id)) problems.push(`${where}.id: duplicate mailbox "${id}"`);
  seen.add(id);
  if (typeof mailbox.password !== 'string' || mailbox.password.length === 0) {
    problems.push(`${where}.password: must be a non-empty string`);
  }
  for (const key of ['ods', 'name', 'orgCode', 'orgName'] as const) {
    if (mailbox[key] !== undefined && typeof mailbox[key] !== 'string')
      problems.push(`${where}.${key}: must be a string`);
  }
  return id;
}

function mailboxProblems(mailboxes: readonly LocalMailbox[], problems: string[]): void {
  if (mailboxes.length === 0) problems.push('mailboxes: at least one mailbox is required');
  const seen = new Set<string>();
  mailboxes.forEach((mailbox, i) => singleMailboxProblems(mailbox, `mailboxes[${i}]`, problems, seen));
}

function workflowProblems(
  workflows: readonly LocalWorkflow[],
  mailboxIds: ReadonlySet<string>,
  problems: string[],
): void {
  const seen = new Set<string>();
  workflows.forEach((workflow, i) => {
    const where = `workflows[${i}]`;
    if (typeof workflow.id !== 'string' || workflow.id.trim() === '') {
      problems.push(`${where}.id: must be a non-empty string`);
      return;
    }
    if (seen.has(workflow.id)) problems.push(`${where}.id: duplicate workflow "${workflow.id}"`);
    seen.add(workflow.id);
    for (const role of ['senders', 'receivers'] as const) {
      const list: unknown = workflow[role];
      if (!Array.isArray(list) || list.some((m) => typeof m !== 'string')) {
        problems.push(`${where}.${role}: must be an array of mailbox ids`);
        continue;
      }
      for (const mailbox of list as string[]) {
        if (!mailboxIds.has(mailbox.toUpperCase()))
          problems.push(`${where}.${role}: unknown mailbox "${mailbox}"`);
      }
    }
  });
}

/** Validates the options and reports every problem at once. */
export function resolveServerConfig(opts: MeshServerOptions): ResolvedServerConfig {
  const problems: string[] = [];
  const mailboxes = Array.isArray(opts.mailboxes) ? opts.mailboxes : [];
  if (!Array.isArray(opts.mailboxes)) problems.push('mailboxes: must be an array');
  mailboxProblems(mailboxes, problems);
  const mailboxIds = new Set(mailboxes.map((m) => String(m.id).toUpperCase()));
  const workflows = opts.workflows ?? [];
  if (!Array.isArray(workflows)) problems.push('workflows: must be an array');
  else workflowProblems(workflows, mailboxIds, problems);
  if (typeof opts.sharedSecret !== 'string' || opts.sharedSecret.length === 0) {
    problems.push('sharedSecret: must be a non-empty string');
  }
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('port: must be an integer 0..65535');
  if (opts.tls && (!opts.tls.cert || !opts.tls.key || !opts.tls.ca))
    problems.push('tls: cert, key and ca are required');
  const maxRequestBytes = opts.limits?.maxRequestBytes ?? MAX_REQUEST_BYTES;
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1) {
    problems.push('limits.maxRequestBytes: must be a positive integer');
  }
  if (problems.length > 0) throw new MeshServerConfigError(problems);

  return {
    mailboxes: new Map(mailboxes.map((m) => [m.id.toUpperCase(), { ...m, id: m.id.toUpperCase() }])),
    workflows: new Map(
      workflows.map((w) => [
        w.id,
        {
          id: w.id,
          senders: w.senders.map((s) => s.toUpperCase()),
          receivers: w.receivers.map((r) => r.toUpperCase()),
        },
      ]),
    ),
    sharedSecret: opts.sharedSecret,
    tls: opts.tls,
    host: opts.host ?? '127.0.0.1',
    port,
    storeDir: opts.storeDir,
    now: opts.now ?? (() => new Date()),
    enforceWorkflows: opts.enforceWorkflows ?? false,
    bindCertificateToMailbox: opts.bindCertificateToMailbox ?? true,
    log: opts.log,
    maxRequestBytes,
    trackingLagMs: Math.max(0, opts.trackingLagMs ?? 0),
  };
}

/** Checks the shape of a parsed config file; throws MeshServerConfigError naming every problem. */
export function parseMeshServerConfig(json: unknown, source = 'config'): MeshServerConfigFile {
  const problems: string[] = [];
  if (!isRecord(json)) throw new MeshServerConfigError([`${source}: must be a JSON object`]);
  checkKeys(json, ['mailboxes', 'workflows', 'sharedSecret'], source, problems);
  const mailboxes = Array.isArray(json['mailboxes']) ? (json['mailboxes'] as unknown[]) : [];
  if (!Array.isArray(json['mailboxes'])) problems.push(`${source}: mailboxes must be an array`);
  mailboxes.forEach((m, i) => {
    if (!isRecord(m)) problems.push(`${source}: mailboxes[${i}] must be an object`);
    else
      checkKeys(
        m,
        ['id', 'password', 'ods', 'name', 'orgCode', 'orgName'],
        `${source}: mailboxes[${i}]`,
        problems,
      );
  });
  const workflows = json['workflows'] ?? [];
  if (!Array.isArray(workflows)) problems.push(`${source}: workflows must be an array`);
  else
    workflows.forEach((w: unknown, i) => {
      if (!isRecord(w)) problems.push(`${source}: workflows[${i}] must be an object`);
      else checkKeys(w, ['id', 'senders', 'receivers'], `${source}: workflows[${i}]`, problems);
    });
  if (problems.length > 0) throw new MeshServerConfigError(problems);
  const config = json as unknown as MeshServerConfigFile;
  // The deeper checks are the same as for programmatic options.
  resolveServerConfig({
    mailboxes: config.mailboxes,
    workflows: config.workflows,
    sharedSecret: config.sharedSecret,
  });
  return config;
}

/** Reads mailboxes, workflows and the shared secret from a JSON file. */
export async function loadMeshServerConfig(path: string): Promise<MeshServerConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MeshServerConfigError(
      [`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`],
      {
        cause: err,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MeshServerConfigError([`${path}: is not valid JSON`], { cause: err });
  }
  return parseMeshServerConfig(json, path);
}
