import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3Error from 's3rver/lib/models/error.js';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';

/** S3's smallest part, for every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

const MAX_PART_NUMBER = 10_000;

/** Big reads and writes where parts have to be copied: the default 64 KiB costs more system time. */
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;

/** Files in an upload's directory, beside s3rver's own `key` and `metadata`. */
const ASSEMBLY_FILE = 'assembly';
const SLOT_FILE = 'slot';
const partFile = (number: number) => String(number);
const partRecordFile = (number: number) => `${number}.part.json`;

interface RequestedPart {
  readonly number: number;
  readonly etag: string;
}

/** What is known of an uploaded part, written only once all its bytes are stored. */
interface PartRecord {
  readonly etag: string;
  readonly size: number;
  /** Stored in the assembly file at (number - 1) × slot, rather than in a file of its own. */
  readonly inPlace: boolean;
}

/**
 * s3rver's filesystem store with multipart uploads that write each byte once, as S3 charges for them.
 *
 * s3rver MD5s every part as it arrives, then on completion reads every part again, MD5s the whole object and
 * writes it out a second time: 4–5 s of a 1 GiB upload on a 2-core machine, which made the emulator, not the
 * download function, what the inbound benchmark measured. Here:
 * - A part is written once, unhashed, under an opaque ETag. S3 gives opaque ETags for SSE-KMS objects, which is
 *   what the pipeline's buckets hold, so nothing may rely on an ETag being an MD5.
 * - Clients send every part but the last in one size. The first part to arrive fixes that size as the upload's
 *   slot, and a part of exactly that size is written straight into an assembly file at its slot, so completing
 *   the usual upload (parts 1..N, all full but the last) only trims the file and appends a short last part. Any
 *   other shape (a gap, a different size, a part sent again) is kept in a file of its own and copied at completion.
 * - Completion first takes the upload for itself (renames its directory), so a second completion or a late part
 *   gets NoSuchUpload, and waits for parts still being written in place. It then checks the listed parts as S3
 *   does (InvalidPartOrder, InvalidPart, EntityTooSmall) and renames the finished file into place, so a reader
 *   never sees half an object. The object's ETag is S3's multipart form: the MD5 of the parts' ETags and "-N".
 */
export class SinglePassMultipartStore extends FilesystemStore {
  /** In-place writes in progress, by upload directory and part number (the emulator is one process). */
  private readonly writingInPlace = new Map<string, Map<number, Promise<unknown>>>();

  /** Whether the bucket exists; `bucket` must already be a valid bucket name (it is joined into a path). */
  async bucketExists(bucket: string): Promise<boolean> {
    try {
      return (await stat(dirname(this.getResourcePath(bucket, 'probe', 'object')))).isDirectory();
    } catch {
      return false;
    }
  }

  override async putPart(
    bucket: string,
    uploadId: string,
    partNumber: string | number,
    content: Readable,
  ): Promise<{ size: number; md5: string }> {
    // s3rver passes the query parameter through unchecked, and it becomes part of a file path.
    const number = Number(partNumber);
    if (!/^\d+$/.test(String(partNumber)) || number < 1 || number > MAX_PART_NUMBER) {
      throw new S3Error(
        'InvalidArgument',
        `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
        { ArgumentName: 'partNumber' },
      );
    }
    // No mkdir: CreateMultipartUpload made the directory, and its absence means the upload was completed or aborted.
    return this.storePart(this.uploadPath(bucket, uploadId), number, content).catch(
      rethrowMissingAsNoSuchUpload,
    );
  }

  override async putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: readonly RequestedPart[],
  ): Promise<{ size: number; md5: string }> {
    const dir = this.uploadPath(bucket, uploadId);
    const claimed = `${dir}.completing-${randomBytes(4).toString('hex')}`;
    await rename(dir, claimed).catch(rethrowMissingAsNoSuchUpload);
    const writing = this.writingInPlace.get(dir);
    if (writing) await Promise.all(writing.values());
    let key: string;
    let metadata: Record<string, string>;
    let assembled: string;
    try {
      [key, metadata] = await Promise.all([
        readFile(join(claimed, 'key'), 'utf8'),
        readFile(join(claimed, 'metadata'), 'utf8').then(
          (text) => JSON.parse(text) as Record<string, string>,
        ),
      ]);
      const records = await checkParts(claimed, parts);
      assembled = await assemble(claimed, parts, records, await readSlot(claimed));
    } catch (error) {
      // A refused completion leaves the upload as it was, to be completed rightly or aborted.
      await rename(claimed, dir).catch(() => undefined);
      throw error;
    }

    const objectPath = this.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const { size } = await stat(assembled);
    const digests = Buffer.concat(parts.map((part) => Buffer.from(part.etag, 'hex')));
    const etag = `${createHash('md5').update(digests).digest('hex')}-${parts.length}`;
    // Metadata first: s3rver hides it until the object exists, and an object without its ETag file would make
    // s3rver MD5 the whole object and write that over the multipart ETag.
    await this.putMetadata(bucket, key, metadata, etag);
    await rename(assembled, objectPath);
    await rm(claimed, { recursive: true, force: true });
    return { size, md5: etag };
  }

  private async storePart(dir: string, number: number, content: Readable) {
    const declared = Number((content as Partial<IncomingMessage>).headers?.['content-length'] ?? NaN);
    const slot = Number.isSafeInteger(declared) ? await claimSlot(dir, declared) : undefined;
    const recorded = await readPartRecord(dir, number);
    // A part sent again (or twice at once) keeps its earlier bytes until the new ones are all stored, as in S3.
    const inPlace =
      slot !== undefined &&
      declared === slot &&
      recorded === undefined &&
      !this.writingInPlace.get(dir)?.has(number);

    let size: number;
    if (inPlace) {
      const writers = this.writersOf(dir);
      const writing = writeInPlace(dir, number, slot, content);
      writers.set(
        number,
        writing.catch(() => undefined),
      );
      try {
        size = await writing;
      } finally {
        writers.delete(number);
        if (writers.size === 0) this.writingInPlace.delete(dir);
      }
    } else {
      const temporary = join(dir, `${partFile(number)}.${randomBytes(4).toString('hex')}`);
      await pipeline(content, createWriteStream(temporary));
      ({ size } = await stat(temporary));
      await rename(temporary, join(dir, partFile(number)));
    }
    const record: PartRecord = { etag: randomBytes(16).toString('hex'), size, inPlace };
    const temporary = join(dir, `${partRecordFile(number)}.${randomBytes(4).toString('hex')}`);
    await writeFile(temporary, JSON.stringify(record));
    await rename(temporary, join(dir, partRecordFile(number)));
    return { size, md5: record.etag };
  }

  private writersOf(dir: string): Map<number, Promise<unknown>> {
    let writers = this.writingInPlace.get(dir);
    if (!writers) this.writingInPlace.set(dir, (writers = new Map()));
    return writers;
  }

  private uploadPath(bucket: string, uploadId: string): string {
    return join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  }
}

async function writeInPlace(dir: string, number: number, slot: number, content: Readable): Promise<number> {
  const assembly = join(dir, ASSEMBLY_FILE);
  // 'r+' (write at an offset without truncating) cannot create the file; 'a' creates it and leaves it as it is.
  await (await open(assembly, 'a')).close();
  const sink = createWriteStream(assembly, { flags: 'r+', start: (number - 1) * slot });
  await pipeline(content, sink);
  if (sink.bytesWritten !== slot) {
    throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified');
  }
  return sink.bytesWritten;
}

function rethrowMissingAsNoSuchUpload(error: unknown): never {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist.');
  }
  throw error;
}

/** The upload's slot size: set once, by the first part to arrive that is big enough to be a full part. */
async function claimSlot(dir: string, declared: number): Promise<number | undefined> {
  const existing = await readSlot(dir);
  if (existing !== undefined || declared < MIN_PART_BYTES) return existing;
  // link() creates the name only if it is free, so of two parts arriving together exactly one sets the slot.
  const temporary = join(dir, `${SLOT_FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(temporary, String(declared));
  await link(temporary, join(dir, SLOT_FILE)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await rm(temporary, { force: true });
  return readSlot(dir);
}

async function readSlot(dir: string): Promise<number | undefined> {
  const text = await readIfPresent(join(dir, SLOT_FILE));
  return text === undefined ? undefined : Number(text);
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readPartRecord(dir: string, number: number): Promise<PartRecord | undefined> {
  const text = await readIfPresent(join(dir, partRecordFile(number)));
  return text === undefined ? undefined : (JSON.parse(text) as PartRecord);
}

/** What S3 refuses in a CompleteMultipartUpload, checked before anything is moved; returns the parts' records. */
async function checkParts(dir: string, parts: readonly RequestedPart[]): Promise<PartRecord[]> {
  const ascending = parts.every(
    (part, index) => Number.isInteger(part.number) && (index === 0 || part.number > parts[index - 1]!.number),
  );
  if (!ascending) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
  const records: PartRecord[] = [];
  for (const [index, part] of parts.entries()) {
    const record = await readPartRecord(dir, part.number);
    if (record === undefined || record.etag !== part.etag) {
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found or the part's entity tag did not match.",
        { PartNumber: part.number, ETag: part.etag },
      );
    }
    if (index < parts.length - 1 && record.size < MIN_PART_BYTES) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        { PartNumber: part.number, MinSizeAllowed: MIN_PART_BYTES },
      );
    }
    records.push(record);
  }
  return records;
}

/** The object's bytes in one file, made from the parts as cheaply as their shape allows. */
async function assemble(
  dir: string,
  parts: readonly RequestedPart[],
  records: readonly PartRecord[],
  slot: number | undefined,
): Promise<string> {
  const last = parts.length - 1;
  if (last === 0 && !records[0]!.inPlace) return join(dir, partFile(parts[0]!.number));
  // Parts 1..N with every part but the last in its slot: the assembly file is the object, once trimmed. Parts
  // sent beyond the last one listed may sit further on in the file: the object ends where its last part does.
  const contiguous = parts.every(
    (part, index) => part.number === index + 1 && (records[index]!.inPlace || index === last),
  );
  if (!contiguous) return copyParts(dir, parts, records, slot);
  const assembly = join(dir, ASSEMBLY_FILE);
  await truncate(assembly, last * slot! + (records[last]!.inPlace ? slot! : 0));
  if (!records[last]!.inPlace) await appendFile(assembly, join(dir, partFile(parts[last]!.number)));
  return assembly;
}

/** Any other shape of upload: every part copied, in order, from wherever it is kept into a new file. */
async function copyParts(
  dir: string,
  parts: readonly RequestedPart[],
  records: readonly PartRecord[],
  slot: number | undefined,
): Promise<string> {
  const joined = join(dir, 'joined');
  await writeFile(joined, '');
  for (const [index, part] of parts.entries()) {
    const record = records[index]!;
    if (record.inPlace) {
      const start = (part.number - 1) * slot!;
      await appendFile(joined, join(dir, ASSEMBLY_FILE), { start, end: start + record.size - 1 });
    } else {
      await appendFile(joined, join(dir, partFile(part.number)));
    }
  }
  return joined;
}

async function appendFile(target: string, source: string, range: { start?: number; end?: number } = {}) {
  await pipeline(
    createReadStream(source, { ...range, highWaterMark: COPY_BUFFER_BYTES }),
    createWriteStream(target, { flags: 'a', highWaterMark: COPY_BUFFER_BYTES }),
  );
}
