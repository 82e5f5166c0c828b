/**
 * The operator commands (`mailbox`, `transfer`, `message`, `redrive`, `table`): their subcommands, arguments and flags.
 * Kept apart from their implementation (operator.ts), which loads the AWS SDK only when one of them runs.
 */
import { UsageError } from './errors.js';

export const OPERATOR_OPTIONS = {
  stack: { type: 'string', multiple: true },
  local: { type: 'boolean' },
  'local-file': { type: 'string' },
  route: { type: 'string', multiple: true },
  'poll-interval': { type: 'string' },
  'expect-inbound-hours': { type: 'string' },
  paused: { type: 'boolean' },
  settings: { type: 'string' },
  reason: { type: 'string' },
  'password-file': { type: 'string' },
  'shared-secret-file': { type: 'string' },
  'key-passphrase-file': { type: 'string' },
  stdin: { type: 'boolean' },
  dlq: { type: 'string' },
  force: { type: 'boolean' },
} as const;

/** Flags every operator command takes: which pipeline, and the output. */
export const TARGET_FLAGS = ['stack', 'local', 'local-file', 'json', 'help'];

export type OperatorCommand = 'mailbox' | 'transfer' | 'message' | 'redrive' | 'table';

interface SubcommandSpec {
  readonly args: readonly string[];
  readonly flags: readonly string[];
}

export const OPERATOR_COMMANDS: Readonly<Record<OperatorCommand, Readonly<Record<string, SubcommandSpec>>>> =
  {
    mailbox: {
      add: {
        args: ['ID'],
        flags: ['route', 'poll-interval', 'expect-inbound-hours', 'paused', 'settings'],
      },
      list: { args: [], flags: [] },
      show: { args: ['ID'], flags: [] },
      pause: { args: ['ID'], flags: ['reason'] },
      resume: { args: ['ID'], flags: [] },
      remove: { args: ['ID'], flags: [] },
      'set-credentials': {
        args: ['ID'],
        flags: ['cert', 'key', 'ca', 'password-file', 'shared-secret-file', 'key-passphrase-file', 'stdin'],
      },
    },
    transfer: { show: { args: ['REF'], flags: ['mailbox'] } },
    message: { show: { args: ['REF'], flags: ['mailbox'] } },
    redrive: {
      transfer: { args: ['REF'], flags: ['mailbox', 'force'] },
      message: { args: ['MAILBOX', 'MESSAGEID'], flags: ['force'] },
    },
    table: { 'backfill-index': { args: [], flags: [] } },
  };

export function isOperatorCommand(command: string): command is OperatorCommand {
  return Object.hasOwn(OPERATOR_COMMANDS, command);
}

/** Flags that would carry a secret's value in an argument: set-credentials refuses them by name. */
const SECRET_VALUE_FLAGS: Readonly<Record<string, string>> = {
  password: '--password-file FILE',
  'shared-key': '--shared-secret-file FILE',
  'key-passphrase': '--key-passphrase-file FILE',
};

/**
 * Checks an operator command's subcommand, arguments and flags; returns the subcommand (`dlq` for
 * `redrive --dlq QUEUE`). Every mistake is a UsageError.
 */
export function checkOperatorCall(
  command: OperatorCommand,
  args: readonly string[],
  flags: Readonly<Record<string, unknown>>,
): { subcommand: string; args: readonly string[] } {
  const subcommands = OPERATOR_COMMANDS[command];
  const names = Object.keys(subcommands);
  if (command === 'redrive' && flags.dlq !== undefined) {
    if (args.length > 0) throw new UsageError('redrive --dlq QUEUE takes no other argument');
    if (flags.dlq !== 'send' && flags.dlq !== 'download') {
      throw new UsageError(`redrive --dlq takes send or download, not "${String(flags.dlq)}"`);
    }
    rejectStray('redrive --dlq', flags, ['dlq']);
    return { subcommand: 'dlq', args: [] };
  }
  const [subcommand, ...rest] = args;
  if (subcommand === undefined) {
    const extra = command === 'redrive' ? ', or --dlq send|download' : '';
    throw new UsageError(`${command} needs a subcommand: ${names.join(', ')}${extra} (see mesh --help)`);
  }
  const spec = Object.hasOwn(subcommands, subcommand) ? subcommands[subcommand] : undefined;
  if (!spec) {
    throw new UsageError(
      `unknown subcommand "${command} ${subcommand}" (${command} takes ${names.join(', ')})`,
    );
  }
  const name = `${command} ${subcommand}`;
  if (rest.length !== spec.args.length) {
    const wanted = spec.args.length === 0 ? 'no arguments' : spec.args.join(' ');
    throw new UsageError(`${name} takes ${wanted}, got ${rest.length} argument(s) (see mesh --help)`);
  }
  if (name === 'mailbox set-credentials') {
    const given = Object.keys(SECRET_VALUE_FLAGS).filter((flag) => flags[flag] !== undefined);
    if (given.length > 0) {
      throw new UsageError(
        `${name} never takes a secret as an argument (it would show in the process list and shell history): ` +
          `instead of --${given.join(', --')} give ${given.map((g) => SECRET_VALUE_FLAGS[g]).join(', ')}, ` +
          'or pipe a MeshCredentials JSON to --stdin',
      );
    }
  }
  rejectStray(name, flags, spec.flags);
  return { subcommand, args: rest };
}

function rejectStray(
  name: string,
  flags: Readonly<Record<string, unknown>>,
  allowed: readonly string[],
): void {
  const ok = new Set([...allowed, ...TARGET_FLAGS]);
  const stray = Object.keys(flags).filter((flag) => flags[flag] !== undefined && !ok.has(flag));
  if (stray.length > 0) throw new UsageError(`${name} does not take --${stray.join(', --')}`);
}
