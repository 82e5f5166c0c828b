import { resolveAddress } from '../shared/outbound/addressing.js';
import type { SendFlags } from './commands.js';
import { UsageError } from './errors.js';

const HEADER_FLAGS: Readonly<Record<string, string>> = {
  to: '--to',
  workflowid: '--workflow',
  subject: '--subject',
  localid: '--local-id',
  filename: '--filename',
  'content-type': '--content-type',
};

/**
 * The recipient as the pipeline would send to it: every header is checked by the pipeline's own rules
 * (shared/outbound/addressing.ts), so the CLI takes what the pipeline takes (a mailbox id, or a GPPROVIDER address
 * with a valid NHS number and date of birth) and refuses what it refuses, with every reason at once.
 */
export function checkedRecipient(sender: string, flags: SendFlags, fileName: string, size: number): string {
  const metadata: Record<string, string | undefined> = {
    'mex-to': flags.to,
    'mex-workflowid': flags.workflow,
    'mex-subject': flags.subject,
    'mex-localid': flags['local-id'],
    'mex-filename': flags.filename ?? fileName,
    'mex-content-type': flags['content-type'],
  };
  const result = resolveAddress({
    key: `outbound/${sender}/${fileName}`,
    size,
    metadata,
    mailboxes: [sender],
    routes: [],
    transferId: 'cli',
    // The CLI sends in chunks, so no single-request limit applies.
    maxBytes: Number.MAX_SAFE_INTEGER,
  });
  if (!result.ok) {
    // The pipeline's reasons name S3 metadata; the CLI's user gave flags.
    const reasons = result.reasons.map((reason) =>
      reason.replace(/\bmex-([a-z-]+)/g, (header, name: string) => HEADER_FLAGS[name] ?? header),
    );
    throw new UsageError(`cannot send to "${flags.to}": ${reasons.join('; ')}`);
  }
  return result.address.to;
}
