/**
 * The operator commands: mailboxes in the registry, transfer and message records, redrives. Loaded only when one
 * of them runs (it brings in the AWS SDK); the use cases themselves are in shared/operations. This module checks
 * the call, opens the pipeline and turns its failures into the CLI's; each command's output is in cli/operator/.
 */
import { awsOperations, type Operations } from '../shared/operations/aws.js';
import { InvalidCredentialsError } from '../shared/operations/mailboxes.js';
import { MAILBOX_ID_PATTERN, type MailboxSettings } from '../shared/registry/mailbox.js';
import type { MeshCredentials } from '../shared/secrets/mesh-credentials.js';
import type { Output } from './commands.js';
import { readCredentials, type CredentialFlags } from './credentials-input.js';
import { CliError, UsageError } from './errors.js';
import { mailboxSettingsFromFlags, type MailboxFlags } from './mailbox-input.js';
import {
  addMailboxCommand,
  listMailboxesCommand,
  removeMailboxCommand,
  setMailboxCredentialsCommand,
  setMailboxPausedCommand,
  showMailboxCommand,
} from './operator/mailbox-commands.js';
import { showMessageCommand, showTransferCommand } from './operator/record-commands.js';
import {
  redriveDlqCommand,
  redriveMessageCommand,
  redriveTransferCommand,
} from './operator/redrive-commands.js';
import { backfillIndexCommand } from './operator/table-commands.js';
import { checkOperatorCall, type OperatorCommand } from './operator-spec.js';
import { openTarget, type TargetFlags } from './target.js';

export interface OperatorFlags extends TargetFlags, MailboxFlags, CredentialFlags {
  readonly mailbox?: string;
  readonly paused?: boolean;
  readonly reason?: string;
  readonly dlq?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

export interface OperatorIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin?: NodeJS.ReadableStream;
  /** Opens the pipeline (tests pass their own); default: openTarget. */
  readonly openTarget?: typeof openTarget;
}

/** Runs one operator command; throws UsageError for mistakes, anything else for failures. */
export async function runOperatorCommand(
  command: OperatorCommand,
  args: readonly string[],
  flags: OperatorFlags,
  out: Output,
  io: OperatorIo,
): Promise<void> {
  const call = checkOperatorCall(command, args, flags as Record<string, unknown>);
  const name = `${command} ${call.subcommand}`;
  const [first = '', second = ''] = call.args;
  // `mailbox add` reports a bad id together with every other problem of its settings.
  if (command === 'mailbox' && call.subcommand !== 'list' && call.subcommand !== 'add') checkMailboxId(first);
  if (name === 'redrive message') checkMailboxId(first);
  if (flags.mailbox !== undefined) checkMailboxId(flags.mailbox);
  // Read before anything is opened: a mistake in them needs no pipeline to be reported.
  const settings = name === 'mailbox add' ? await mailboxSettingsFromFlags(first, flags) : undefined;
  const credentials = name === 'mailbox set-credentials' ? await readCredentials(flags, io.stdin) : undefined;

  // The SDK's multi-line notice about its own future Node support would break the one-line output on Node 20
  // (the package.json engines floor). Set the variable to anything but "true" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const target = await (io.openTarget ?? openTarget)(flags, io.env);
  try {
    await dispatch(awsOperations(target.clients, target.location), target.description, {
      name,
      first,
      second,
      flags,
      settings,
      credentials,
      out,
    });
  } catch (error) {
    if (error instanceof InvalidCredentialsError) throw new UsageError(error.message);
    if (target.local && refused(error)) {
      throw new CliError(
        `the local pipeline is not running (nothing answers at its endpoints): start it with npm start`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    target.close();
  }
}

interface Call {
  readonly name: string;
  readonly first: string;
  readonly second: string;
  readonly flags: OperatorFlags;
  readonly settings?: MailboxSettings;
  readonly credentials?: MeshCredentials;
  readonly out: Output;
}

async function dispatch(ops: Operations, description: string, call: Call): Promise<void> {
  const { name, first, second, flags, out } = call;
  switch (name) {
    case 'mailbox add':
      return addMailboxCommand(ops, out, description, first, call.settings!, flags.paused);
    case 'mailbox list':
      return listMailboxesCommand(ops, out);
    case 'mailbox show':
      return showMailboxCommand(ops, out, first);
    case 'mailbox pause':
    case 'mailbox resume':
      return setMailboxPausedCommand(ops, out, first, name === 'mailbox pause', flags.reason);
    case 'mailbox remove':
      return removeMailboxCommand(ops, out, first);
    case 'mailbox set-credentials':
      return setMailboxCredentialsCommand(ops, out, first, call.credentials!);
    case 'transfer show':
      return showTransferCommand(ops, out, first, flags.mailbox);
    case 'message show':
      return showMessageCommand(ops, out, first, flags.mailbox);
    case 'redrive transfer':
      return redriveTransferCommand(ops, out, first, { mailbox: flags.mailbox, force: flags.force });
    case 'redrive message':
      return redriveMessageCommand(ops, out, first, second, flags.force);
    case 'redrive dlq':
      return redriveDlqCommand(ops, out, flags.dlq as 'send' | 'download');
    case 'table backfill-index':
      return backfillIndexCommand(ops, out);
  }
}

/** A connection refused: nothing listens at the endpoint. */
function refused(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(message ?? ''));
}

function checkMailboxId(id: string): void {
  if (!MAILBOX_ID_PATTERN.test(id)) {
    throw new UsageError(
      `"${id}" is not a MESH mailbox id (3 to 20 uppercase letters and digits, e.g. X26ABC1)`,
    );
  }
}
