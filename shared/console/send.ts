import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import { z } from 'zod';
import { resolveAddress } from '../outbound/addressing.js';
import { KEY_LAYOUT } from '../wiring/pipeline.js';
import { InvalidRequestError } from './errors.js';
import { parseInput } from './input.js';

/** The largest file the console takes, as the MESH UI: 100 MB. Bigger files go through the S3 drop, chunked. */
export const CONSOLE_MAX_FILE_BYTES = 100_000_000;

export const uploadRequestSchema = z.object({
  recipient: z.string().trim().min(1, 'Enter the recipient mailbox ID').max(100),
  workflowId: z.string().trim().min(1, 'Enter the workflow ID').max(300),
  subject: z.string().max(500).optional(),
  localId: z.string().max(300).optional(),
  fileName: z.string().trim().min(1, 'Choose a file').max(300),
  size: z
    .number()
    .int()
    .min(1, 'The selected file is empty: MESH does not accept an empty message')
    .max(CONSOLE_MAX_FILE_BYTES, 'The selected file must be smaller than 100 MB'),
  contentType: z.string().max(100).optional(),
});
export type UploadRequest = z.infer<typeof uploadRequestSchema>;

export interface PlannedUpload {
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  /** S3 user metadata, URL-encoded as the pipeline reads it (README "Sending a file"). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** What the pipeline's metadata names are called on the send page. */
const FIELD_WORDS: readonly [RegExp, string][] = [
  [/\bmex-to\b/g, 'the recipient'],
  [/\bmex-workflowid\b/g, 'the workflow ID'],
  [/\bmex-subject\b/g, 'the subject'],
  [/\bmex-localid\b/g, 'the local ID'],
  [/\bmex-filename\b/g, 'the file name'],
  [/\bmex-content-type\b/g, 'the content type'],
];

/**
 * Checks a send request as the pipeline will check the object (resolveAddress, the same function, so the page
 * refuses exactly what the pipeline would reject) and plans its S3 object: a key under the mailbox's outbound prefix
 * that says nothing of the file (names can carry patient details; the recipient sees `mex-filename`, never the key),
 * with the addressing as metadata.
 */
export function planUpload(mailboxId: string, body: unknown, now: Date = new Date()): PlannedUpload {
  const input = parseInput(uploadRequestSchema, body);
  const ext = extname(input.fileName).toLowerCase();
  const key =
    `${KEY_LAYOUT.outboundPrefix(mailboxId)}console/${now.toISOString().slice(0, 10)}/${randomUUID()}` +
    (/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '');
  const plain: Record<string, string | undefined> = {
    'mex-to': input.recipient,
    'mex-workflowid': input.workflowId,
    'mex-subject': input.subject || undefined,
    'mex-localid': input.localId || undefined,
    'mex-filename': input.fileName,
    'mex-content-type': input.contentType || undefined,
  };
  const metadata = Object.fromEntries(
    Object.entries(plain)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => [name, encodeURIComponent(value)]),
  );
  const checked = resolveAddress({
    key,
    size: input.size,
    metadata,
    mailboxes: [mailboxId],
    routes: [],
    transferId: '0'.repeat(32),
    maxBytes: CONSOLE_MAX_FILE_BYTES,
    today: now,
  });
  if (!checked.ok) {
    throw new InvalidRequestError(
      checked.reasons.map((reason) => {
        const text = FIELD_WORDS.reduce((t, [pattern, words]) => t.replace(pattern, words), reason);
        return text.charAt(0).toUpperCase() + text.slice(1);
      }),
    );
  }
  return {
    key,
    size: input.size,
    contentType: input.contentType || 'application/octet-stream',
    metadata,
  };
}
