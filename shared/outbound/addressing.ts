import { extname } from 'node:path';
import type { SendHeaders } from '../mesh/index.js';
import { isRealPastDate, isValidNhsNumber } from './nhs-number.js';

/** Defaults for files dropped under a key prefix, so a file with no metadata still goes to the right place. */
export interface OutboundRoute {
  /** Full key prefix, e.g. `outbound/X26ABC1/pathology/`. The longest matching prefix wins. */
  readonly prefix: string;
  readonly to?: string;
  readonly workflowId?: string;
  readonly subject?: string;
  readonly contentType?: string;
}

export interface AddressingInput {
  readonly key: string;
  readonly size: number;
  /** S3 user metadata, names lowercase without `x-amz-meta-`. */
  readonly metadata: Readonly<Record<string, string | undefined>>;
  /** Sending mailboxes this deployment serves. */
  readonly mailboxes: readonly string[];
  readonly routes: readonly OutboundRoute[];
  /** Stable id of this object's transfer; seeds the default local id and filename. */
  readonly transferId: string;
  readonly maxBytes: number;
  readonly today?: Date;
}

export interface OutboundAddress extends SendHeaders {
  readonly from: string;
  readonly localId: string;
  readonly fileName: string;
}

export type AddressingResult =
  | { readonly ok: true; readonly address: OutboundAddress }
  | { readonly ok: false; readonly reasons: readonly string[] };

const MAILBOX_ID = /^[A-Z0-9]{3,20}$/;
const WORKFLOW_ID = /^[A-Za-z0-9_.-]{1,300}$/;
// eslint-disable-next-line no-control-regex -- control and bidi characters are what is being looked for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** HTTP header values carry bytes, read as Latin-1: nothing beyond U+00FF can reach MESH as it was meant. */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;
const CHECKSUM = /^[A-Za-z0-9 :\-/]{1,100}$/;
const LIMITS = { subject: 500, localId: 300, fileName: 300, contentType: 100, to: 100 } as const;

/** S3 key layout: `outbound/{MAILBOX}/...`. */
export function senderFromKey(key: string): string | undefined {
  const m = /^outbound\/([^/]+)\/.+/.exec(key);
  return m?.[1];
}

/**
 * Works out and checks every header of an outbound message before a byte is sent. Every problem is reported,
 * not just the first, so a rejected file says all that is wrong with it.
 */
export function resolveAddress(input: AddressingInput): AddressingResult {
  const reasons: string[] = [];
  const from = senderFromKey(input.key);
  if (!from) reasons.push('key is not under outbound/{MAILBOX}/');
  else if (!input.mailboxes.includes(from))
    reasons.push(`sending mailbox ${from} is not configured in this deployment`);

  const route = [...input.routes]
    .filter((r) => input.key.startsWith(r.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];

  const read = (name: string): string | undefined => {
    const raw = input.metadata[name];
    if (raw === undefined || raw === '') return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      reasons.push(`${name} is not valid URL-encoding`);
      return undefined;
    }
  };

  const to = (read('mex-to') ?? route?.to)?.trim();
  const workflowId = (read('mex-workflowid') ?? route?.workflowId)?.trim();
  const subject = read('mex-subject') ?? route?.subject;
  const localId = read('mex-localid') ?? `nmp-${input.transferId}`;
  const contentType = read('mex-content-type') ?? route?.contentType;
  const checksum = read('mex-content-checksum');
  const fileName = read('mex-filename') ?? defaultFileName(input.key, localId);
  const compressed = readFlag('mex-content-compressed', read('mex-content-compressed'), reasons);
  const encrypted = readFlag('mex-content-encrypted', read('mex-content-encrypted'), reasons);

  const fields: Record<string, string | undefined> = {
    to,
    workflowId,
    subject,
    localId,
    contentType,
    checksum,
    fileName,
  };
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && CONTROL.test(value))
      reasons.push(`${name} contains control or bidirectional characters`);
    else if (value !== undefined && BEYOND_LATIN1.test(value))
      reasons.push(`${name} contains characters beyond Latin-1, which a MESH header cannot carry`);
  }

  if (!to) reasons.push('no recipient: set mex-to metadata or a route with a recipient');
  else if (to.length > LIMITS.to) reasons.push(`mex-to is longer than ${LIMITS.to} characters`);
  else if (to.toUpperCase().startsWith('GPPROVIDER_')) reasons.push(...checkGpProvider(to, input.today));
  else if (!MAILBOX_ID.test(to.toUpperCase()))
    reasons.push('mex-to is not a MESH mailbox id (3 to 20 letters and digits)');

  if (!workflowId) reasons.push('no workflow: set mex-workflowid metadata or a route with a workflow');
  else if (!WORKFLOW_ID.test(workflowId))
    reasons.push('mex-workflowid may hold only letters, digits, _ . and -');

  if (subject !== undefined && subject.length > LIMITS.subject)
    reasons.push(`mex-subject is over ${LIMITS.subject} characters`);
  if (localId.length > LIMITS.localId) reasons.push(`mex-localid is over ${LIMITS.localId} characters`);
  if (contentType !== undefined && contentType.length > LIMITS.contentType) {
    reasons.push(`mex-content-type is over ${LIMITS.contentType} characters`);
  }
  if (checksum !== undefined && !CHECKSUM.test(checksum)) {
    reasons.push('mex-content-checksum may hold only letters, digits, spaces and : - / (at most 100)');
  }
  if (fileName.length > LIMITS.fileName) reasons.push(`mex-filename is over ${LIMITS.fileName} characters`);
  // A path would reveal the S3 key layout (and any patient details in it) to the recipient.
  if (/[/\\]/.test(fileName)) reasons.push('mex-filename must be a bare file name, not a path');

  if (input.size <= 0) reasons.push('the file is empty: MESH does not accept an empty message');
  if (input.size > input.maxBytes)
    reasons.push(`the file is ${input.size} bytes, over the limit of ${input.maxBytes}`);

  if (reasons.length > 0) return { ok: false, reasons };
  return {
    ok: true,
    address: {
      from: from!,
      to: to!.toUpperCase().startsWith('GPPROVIDER_') ? to! : to!.toUpperCase(),
      workflowId: workflowId!,
      subject,
      localId,
      fileName,
      contentType,
      contentChecksum: checksum,
      contentCompressed: compressed,
      contentEncrypted: encrypted,
    },
  };
}

/** `GPPROVIDER_<NHS number>_<yyyyMMdd date of birth>_<surname>`: MESH resolves the patient's GP mailbox. */
function checkGpProvider(to: string, today?: Date): string[] {
  const m = /^GPPROVIDER_([^_]*)_([^_]*)_(.*)$/i.exec(to);
  if (!m) return ['GPPROVIDER address must be GPPROVIDER_<NHS number>_<yyyyMMdd>_<surname>'];
  const [, nhsNumber = '', dob = '', surname = ''] = m;
  const problems: string[] = [];
  if (!isValidNhsNumber(nhsNumber))
    problems.push('GPPROVIDER address has an invalid NHS number (check digit)');
  if (!isRealPastDate(dob, today))
    problems.push('GPPROVIDER address has a date of birth that is not a real past date');
  if (!/^[A-Za-z][A-Za-z' -]{0,34}$/.test(surname))
    problems.push('GPPROVIDER address has a malformed surname');
  return problems;
}

function readFlag(name: string, value: string | undefined, reasons: string[]): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(y|yes|true|1)$/i.test(value)) return true;
  if (/^(n|no|false|0)$/i.test(value)) return false;
  reasons.push(`${name} must be Y or N`);
  return undefined;
}

/** A name that says nothing of the S3 key (which may carry patient details): the local id plus a plain extension. */
function defaultFileName(key: string, localId: string): string {
  const ext = extname(key).toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(ext) ? `${localId}${ext}` : `${localId}.dat`;
}
