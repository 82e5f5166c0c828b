import { DEFAULT_COMPRESSION_LEVEL } from '../shared/mesh/compression.js';

export const USAGE = `mesh: a MESH API v2 client

Usage: mesh <command> [options]

Commands:
  handshake                          validate the mailbox and connection
  send FILE --to RECIPIENT --workflow ID [--subject S] [--local-id ID] [--filename NAME]
            [--content-type TYPE] [--chunk-size BYTES] [--compression-level N | --no-compress]
            [--compression-workers N]
                                     RECIPIENT: a mailbox id, or GPPROVIDER_<NHS number>_<yyyyMMdd date
                                     of birth>_<surname> for the patient's GP; checked as the pipeline does.
                                     Gzipped at level N (1 to 9, default ${DEFAULT_COMPRESSION_LEVEL}) on every core
                                     (--compression-workers N: on N threads) when samples of the file
                                     show it compresses; sent plain otherwise, and always with
                                     --no-compress
  inbox [--all]                      list message ids ready for download (--all: every page)
  count                              how many messages are waiting in the inbox
  download ID [--out FILE] [--ack]   stream a message to FILE (or stdout); --ack acknowledges it after, and
                                     only if its bytes match the SHA-256 in mex-Content-Checksum (when the
                                     sender gave one)
  ack ID                             acknowledge a downloaded message
  track ID                           delivery status of a message this mailbox sent
  lookup ODS WORKFLOW                mailboxes for an ODS code and workflow
  workflows WORKFLOW                 mailboxes that receive a workflow
  server [--port N] [--config FILE] [--dir DIR] [--http]
                                     run the local MESH server (HTTPS with mutual TLS)

Operator commands (act on a pipeline's registry, records and queues, not on MESH):
  mailbox add ID [--route PREFIX=TO:WORKFLOW ...] [--poll-interval SECONDS] [--expect-inbound-hours H]
              [--paused]             register a mailbox; PREFIX is under outbound/ID/ (e.g. results/), TO or
                                     WORKFLOW may be empty; polled every 300 s unless told (300 to 86400)
  mailbox add ID --settings FILE [--paused]
                                     the same from a JSON file ({ routes, pollIntervalSeconds, ... })
  mailbox list                       every registered mailbox, its state and polls
  mailbox show ID                    settings, state, last and next poll, last inbound, its secret and
                                     certificate expiry (never a secret's value)
  mailbox pause ID [--reason TEXT]   stop polling it until resumed
  mailbox resume ID
  mailbox remove ID                  remove it from the registry (its secret is left in Secrets Manager)
  mailbox set-credentials ID --cert FILE --key FILE --ca FILE --password-file FILE
              --shared-secret-file FILE [--key-passphrase-file FILE]
                                     store its MESH credentials in its secret, checked first; any one file
                                     may be - (standard input). Or --stdin: a JSON object of MeshCredentials
                                     fields (password, sharedSecret, clientCert, clientKey, caCert,
                                     clientKeyPassphrase) on standard input. Secrets are never arguments.
  transfer show REF [--mailbox ID]   an outbound transfer by S3 key (outbound/...), transfer id, MESH message
                                     id or local id: status, attempts, chunks, reasons, times
  message show REF [--mailbox ID]    an inbound message by S3 key (inbound/...) or MESH message id
  redrive transfer REF [--force]     resume a stalled transfer from its last checkpoint
  redrive message MAILBOX MESSAGEID [--force]
                                     give a poisoned inbound message a new download task
  redrive --dlq send|download        move every message of that DLQ back to its queue
  table backfill-index               give records written before the console's byMailbox index their entry
                                     (once, after upgrading from 0.2; safe to run again)

Pipeline (operator commands):
  --stack NAME         a deployed pipeline's CloudFormation stack (or MESH_PIPELINE_STACK=NAME[,NAME]); repeat
                       it for a pipeline deployed as several stacks. Region and credentials: the usual AWS
                       settings (AWS_REGION, AWS_PROFILE, ...)
  --local              the local pipeline of npm start: the default when no stack is given and
                       .local/pipeline.json exists
  --local-file FILE    the local pipeline described by FILE

Connection (flag, or environment variable):
  --url URL            MESH_URL          base URL, or
  --env NAME           MESH_ENV          integration | deployment | production
  --mailbox ID         MESH_MAILBOX
  --password-file F    MESH_PASSWORD_FILE (or MESH_PASSWORD)
  --shared-secret-file F
                       MESH_SHARED_KEY_FILE (or MESH_SHARED_KEY)
  --cert FILE          MESH_CLIENT_CERT  client certificate (PEM)
  --key FILE           MESH_CLIENT_KEY   client private key (PEM)
  --key-passphrase-file F
                       MESH_CLIENT_KEY_PASSPHRASE_FILE (or MESH_CLIENT_KEY_PASSPHRASE)
  --ca FILE            MESH_CA_CERT      CA chain that signs the server certificate (PEM)
  --from-secret        every credential from the pipeline's own secret for the mailbox
                       ({SecretPrefix}{MAILBOX}; the pipeline as for operator commands: --stack, --local)
  Secrets are never taken as arguments, where the process list and the shell's history would show them:
  --password, --shared-key and --key-passphrase are refused; use the files or variables above.

Output:
  --json               print one JSON document for scripts
  --help               this text; mesh COMMAND --help for one command
  --version            the version of this tool
`;

/** The USAGE section a command's help ends with, by the kind of command. */
const SECTIONS = {
  connection: /\nConnection \(flag, or environment variable\):\n[\s\S]*?(?=\n\n)/,
  pipeline: /\nPipeline \(operator commands\):\n[\s\S]*?(?=\n\n)/,
  output: /\nOutput:\n[\s\S]*$/,
} as const;

/**
 * The help of one command (and, for operator commands, one subcommand): its lines of USAGE, with the sections of
 * flags it takes. Undefined for a command USAGE does not list.
 */
export function commandUsage(command: string, subcommand?: string, operator = false): string | undefined {
  const entries: string[] = [];
  let current: string[] | undefined;
  for (const line of USAGE.split('\n')) {
    const start = /^ {2}(\S+)(?: (\S+))?/.exec(line);
    if (start) {
      const matches = start[1] === command && (!subcommand || start[2] === subcommand);
      current = matches ? [line] : undefined;
      if (current) entries.push(line);
      continue;
    }
    // A continuation line of the entry being collected: indented deeper than an entry's start.
    if (current && /^ {3,}\S/.test(line)) entries.push(line);
    else current = undefined;
  }
  if (entries.length === 0) return undefined;
  const sections = [operator ? SECTIONS.pipeline : SECTIONS.connection, SECTIONS.output].map(
    (section) => section.exec(USAGE)?.[0].trimEnd() ?? '',
  );
  const name = subcommand ? `${command} ${subcommand}` : command;
  return `Usage: mesh ${name} [options]\n\n${entries.join('\n')}\n${sections.join('\n')}\n`;
}
