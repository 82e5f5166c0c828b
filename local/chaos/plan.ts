/** The chaos run's files and, declared before anything runs, what must become of each. */

export const MAILBOXES = ['X26ABC1', 'X26ABC2', 'X26ABC3'] as const;
/** The recipient whose acknowledgements MESH refuses (403 or 500, every time) until the operator step. */
export const ACK_REFUSING_MAILBOX = 'X26ABC3';
export const WORKFLOW = 'TEST_WORKFLOW';
const MIB = 1024 * 1024;

/**
 * What must become of a file:
 * - `deliver`: exactly one MESH message, stored byte-identical, announced once, its transfer never failed;
 * - `deliver-ack-refused`: the same, although its recipient's acknowledgements are refused on every receive
 *   (the last one included) until the operator fixes the cause and redrives;
 * - `invalid`: bad addressing; no MESH message, and the transfer ends `rejected` with a reason matching `reason`;
 * - `deleted`: deleted from the outbound bucket right after upload (S3 then answers 403 to the pipeline's reads):
 *   either delivered as `deliver` (sent before the delete) or `failed` with a reason matching `reason`, never
 *   silent.
 */
export type Expectation =
  | { readonly kind: 'deliver' }
  | { readonly kind: 'deliver-ack-refused' }
  | { readonly kind: 'invalid'; readonly status: 'rejected'; readonly reason: RegExp }
  | { readonly kind: 'deleted'; readonly status: 'failed'; readonly reason: RegExp };

export interface PlannedFile {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly size: number;
  readonly key: string;
  /** `mex-filename`: how the MESH server's store and the recipient's bucket name it. */
  readonly fileName: string;
  readonly expect: Expectation;
  /** SHA-256 of the bytes uploaded, set once the upload is done. */
  sha256?: string;
}

/**
 * Mostly small files, some medium, a few multi-chunk ones up to the maximum; the first two are the extremes. A few
 * go to the acknowledgement-refusing mailbox (no others do), about 2% have bad addressing and about 2% are
 * deleted right after upload (at least one of each).
 */
export function planFiles(count: number, maxFileBytes: number, random: () => number): PlannedFile[] {
  const ackRefused = Math.min(20, Math.max(2, Math.round(count * 0.03)));
  const files: PlannedFile[] = [];
  for (let index = 0; index < count; index++) {
    const u = random();
    const pick = (lo: number, hi: number) =>
      Math.max(1, Math.floor(lo + random() * (Math.min(hi, maxFileBytes) - lo)));
    let size =
      index === 0
        ? 1
        : index === 1
          ? maxFileBytes
          : u < 0.7
            ? pick(1, 64 * 1024)
            : u < 0.92
              ? pick(64 * 1024, MIB)
              : u < 0.99
                ? pick(MIB, Math.max(2 * MIB, maxFileBytes / 20))
                : pick(maxFileBytes / 4, maxFileBytes);
    const from = MAILBOXES[index % MAILBOXES.length]!;
    const other = random();
    const special = random();
    let expect: Expectation;
    let to: string;
    // The first few files after the two extremes, from the other two mailboxes, go to the refusing mailbox: they
    // start early, so their every receive (up to the DLQ) fits in the run.
    if (index >= 2 && from !== ACK_REFUSING_MAILBOX && files.filter(refused).length < ackRefused) {
      expect = { kind: 'deliver-ack-refused' };
      to = ACK_REFUSING_MAILBOX;
    } else {
      // Everything else goes to one of the two other mailboxes (never the refusing one).
      const choices = MAILBOXES.filter((m) => m !== ACK_REFUSING_MAILBOX && m !== from);
      to = choices[Math.floor(other * choices.length)]!;
      const mustInvalid = index === count - 1 && !files.some((f) => f.expect.kind === 'invalid');
      const mustDelete = index === count - 2 && !files.some((f) => f.expect.kind === 'deleted');
      if (index > 1 && (mustInvalid || special < 0.02)) {
        expect = { kind: 'invalid', status: 'rejected', reason: /mex-to/ };
      } else if (index > 1 && (mustDelete || special > 0.98)) {
        expect = { kind: 'deleted', status: 'failed', reason: /deleted/ };
        size = Math.min(size, 64 * 1024);
      } else {
        expect = { kind: 'deliver' };
      }
    }
    files.push({
      index,
      from,
      to,
      size,
      key: `outbound/${from}/chaos/file-${index}.bin`,
      fileName: `file-${index}.bin`,
      expect,
    });
  }
  return files;
}

const refused = (f: PlannedFile) => f.expect.kind === 'deliver-ack-refused';
