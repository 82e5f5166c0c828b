/** Wire-level constants of MESH API v2 shared by the client and the local server. */

export const MESH_V2_ACCEPT = 'application/vnd.mesh.v2+json';
export const API_PREFIX = '/messageexchange';

/** Largest single request body MESH accepts (100 MB, decimal as the spec states it). */
export const MAX_REQUEST_BYTES = 100_000_000;
/** Every chunk except the last should exceed this many uncompressed bytes. */
export const MIN_NON_FINAL_CHUNK_BYTES = 5_000_000;
/** Largest chunked message the spec allows (100 GB). */
export const MAX_MESSAGE_BYTES = 100_000_000_000;
export const DEFAULT_CHUNK_BYTES = 20 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 500;

/** Statuses on which an idempotent request (anything but the first outbox POST) may be retried. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([425, 429, 502, 503, 504]);

export const MESH_ENVIRONMENTS = {
  integration: 'https://msg.intspineservices.nhs.uk',
  deployment: 'https://msg.dep.spine2.ncrs.nhs.uk',
  production: 'https://mesh-sync.spineservices.nhs.uk',
} as const;
export type MeshEnvironmentName = keyof typeof MESH_ENVIRONMENTS;

export function isMeshEnvironmentName(value: string): value is MeshEnvironmentName {
  return Object.hasOwn(MESH_ENVIRONMENTS, value);
}

/** Lowercase header names, as the v2 server sends them. */
export const H = {
  to: 'mex-to',
  from: 'mex-from',
  workflowId: 'mex-workflowid',
  chunkRange: 'mex-chunk-range',
  totalChunks: 'mex-total-chunks',
  subject: 'mex-subject',
  localId: 'mex-localid',
  partnerId: 'mex-partnerid',
  fileName: 'mex-filename',
  contentCompressed: 'mex-content-compressed',
  contentEncrypted: 'mex-content-encrypted',
  contentChecksum: 'mex-content-checksum',
  contentType: 'mex-content-type',
  messageType: 'mex-messagetype',
  messageId: 'mex-messageid',
  linkedMessageId: 'mex-linkedmsgid',
  addressType: 'mex-addresstype',
  version: 'mex-version',
  statusCode: 'mex-statuscode',
  statusEvent: 'mex-statusevent',
  statusDescription: 'mex-statusdescription',
  statusSuccess: 'mex-statussuccess',
  statusTimestamp: 'mex-statustimestamp',
  clientVersion: 'mex-clientversion',
  osName: 'mex-osname',
  osVersion: 'mex-osversion',
  osArchitecture: 'mex-osarchitecture',
  javaVersion: 'mex-javaversion',
} as const;

/** MESH error codes the pipeline acts on (reference §8). */
export const MESH_CODES = {
  success: '00',
  dataFileMissing: '02',
  malformedControlFile: '06',
  invalidFrom: '07',
  missingTo: '08',
  unregisteredRecipient: '12',
  undelivered: '14',
  workflowNotRegistered: '17',
  messageDoesNotExist: '20',
} as const;

/** One `detail` entry of a v2 error body. */
export interface MeshErrorDetail {
  readonly event?: string;
  readonly code?: string;
  readonly msg?: string;
  readonly loc?: readonly (string | number)[];
  readonly type?: string;
}

/** The v2 error body. */
export interface MeshErrorBody {
  readonly message_id?: string;
  readonly internal_id?: string;
  readonly detail: readonly MeshErrorDetail[];
}

export interface InboxPageBody {
  readonly messages: readonly string[];
  readonly links?: { readonly self?: string; readonly next?: string };
  readonly approx_inbox_count?: number;
}

export interface SendResponseBody {
  readonly message_id: string;
}

export interface TrackingBody {
  readonly message_id: string;
  readonly local_id?: string | null;
  readonly workflow_id?: string | null;
  readonly filename?: string | null;
  readonly expiry_time?: string | null;
  readonly upload_timestamp?: string | null;
  readonly recipient?: string | null;
  readonly recipient_name?: string | null;
  readonly recipient_ods_code?: string | null;
  readonly recipient_org_code?: string | null;
  readonly recipient_org_name?: string | null;
  readonly status_success?: boolean | null;
  readonly status: string;
  readonly status_event?: string | null;
  readonly status_timestamp?: string | null;
  readonly status_description?: string | null;
  readonly status_code?: string | null;
}

export interface LookupBody {
  readonly results: readonly { readonly mailbox_id: string; readonly mailbox_name?: string }[];
}

/** `n:N` from a mex-Chunk-Range header. */
export function parseChunkRange(value: string | undefined): { index: number; total: number } | undefined {
  const m = value ? /^\s*(\d{1,9}):(\d{1,9})\s*$/.exec(value) : null;
  if (!m) return undefined;
  return { index: Number(m[1]), total: Number(m[2]) };
}
