import { crc32, DICTIONARY_BYTES, gzipHeader, gzipTrailer, type SegmentOptions } from './compression.js';

/** One chunk of a message: its 1-based number and its range of uncompressed bytes. */
export interface ChunkSpan {
  readonly number: number;
  readonly start: number;
  readonly end: number;
}

export interface CompressedChunk extends ChunkSpan {
  /** The chunk's gzip stream in pieces (header, each segment's DEFLATE, trailer): never joined into one Buffer. */
  readonly pieces: readonly Buffer[];
  /** Their total length: the chunk's bytes on the wire. */
  readonly length: number;
}

export interface OrderedCompressionOptions {
  /** The chunks to compress, in upload order; pulled one at a time, just before each is started. */
  readonly chunks: Iterable<ChunkSpan>;
  /**
   * A chunk's bytes as segments in order, each in memory of its own that may be lent to the compressor. Pulled one
   * segment at a time, only when there is room for it, so a hash fed here sees every byte once, in order.
   */
  readonly segments: (chunk: ChunkSpan) => AsyncIterator<Buffer>;
  /** Compresses one segment (its memory handed over). */
  readonly deflate: (segment: Buffer, options: Omit<SegmentOptions, 'level'>) => Promise<Buffer>;
  /** Segments read and not yet compressed, at most: at least 1. */
  readonly segmentWindow: number;
  /**
   * Chunks started ahead of the one last taken (the one uploading), at most: 0 prepares the next chunk only once
   * the last is taken; 1 also starts the one after as soon as the next is read, so no worker waits at its end.
   */
  readonly chunksAhead: number;
  /** Frees a segment's compressed bytes when the chunk they belong to is done with (see `done`). */
  readonly release?: (deflated: Buffer) => void;
  readonly level: number;
}

interface Slot {
  readonly promise: Promise<CompressedChunk | undefined>;
  resolve(value: CompressedChunk | undefined | Promise<CompressedChunk>): void;
}

/**
 * Gzips a message's chunks, every segment of every chunk on whichever worker is free, and hands the chunks out
 * strictly in order, each one gzip stream (header, its segments' DEFLATE output, CRC-32 and length). Segments are
 * read one after another, in order, each as soon as there is room for it (`segmentWindow`), and a new chunk starts
 * only `chunksAhead` ahead of the one uploading. So memory holds a few segments being compressed and two or three
 * chunks' compressed bytes, whatever the size of the message or the number of workers.
 *
 * A failed read or compression is handed to whoever takes that chunk, and nothing is read after it. Every promise
 * made here is handled, whether or not anyone takes its chunk: a rejection nobody awaits kills a Lambda runtime.
 */
export class OrderedCompression {
  /** Chunks by index from the first; a slot is dropped once its chunk is taken, and its bytes with it. */
  private readonly slots = new Map<number, Slot>();
  private chunksStarted = 0;
  private chunksTaken = 0;
  private segmentsWorking = 0;
  private stopped = false;
  private wake?: () => void;
  private readonly working = new Set<Promise<unknown>>();
  private readonly reading: Promise<void>;

  constructor(private readonly options: OrderedCompressionOptions) {
    for (const [name, least] of [
      ['segmentWindow', 1],
      ['chunksAhead', 0],
    ] as const) {
      if (!Number.isSafeInteger(options[name]) || options[name] < least) {
        throw new RangeError(`${name} must be ${least} or more, not ${options[name]}`);
      }
    }
    this.reading = this.readAhead();
  }

  /**
   * The next chunk in order, once compressed; undefined when the chunks ended before it. Call again only after the
   * previous call has settled.
   */
  async next(): Promise<CompressedChunk | undefined> {
    const index = this.chunksTaken;
    const chunk = await this.slot(index).promise;
    this.slots.delete(index);
    this.chunksTaken++;
    this.wake?.();
    return chunk;
  }

  /** Says a chunk taken is finished with (uploaded for good): its memory may go at once. */
  done(chunk: CompressedChunk): void {
    for (const piece of chunk.pieces) this.options.release?.(piece);
  }

  /** Reads nothing more, and waits for reads and compressions under way to settle (their results are dropped). */
  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.reading;
    await Promise.allSettled([...this.working]);
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!this.stopped && !ready()) {
      await new Promise<void>((wake) => (this.wake = wake));
      this.wake = undefined;
    }
  }

  private async readAhead(): Promise<void> {
    const chunks = this.options.chunks[Symbol.iterator]();
    try {
      for (;;) {
        // Room first, then the next chunk: a generator that decides whether to go on decides as late as it can.
        await this.until(() => this.chunksStarted - this.chunksTaken <= this.options.chunksAhead);
        if (this.stopped) break;
        const step = chunks.next();
        if (step.done) break;
        const slot = this.slot(this.chunksStarted++);
        const compressed = this.compressChunk(step.value);
        this.track(compressed);
        slot.resolve(compressed.promise);
        // The chunk's reading is over once its last segment is sent to be compressed (or its reading failed).
        if (!(await compressed.read)) return;
      }
    } catch (error) {
      // The chunks themselves failed (a generator that threw): the chunk that would have come next fails with it.
      this.slot(this.chunksStarted++).resolve(Promise.reject(error as Error));
      return;
    } finally {
      this.stopped = true;
      chunks.return?.();
    }
    // No more chunks: whoever asks past the last one hears so rather than waiting for ever.
    this.slot(this.chunksStarted).resolve(undefined);
  }

  /**
   * Reads one chunk's segments and sends each to be compressed. `read` settles true once every segment has gone,
   * false if reading failed or stopped; `promise` settles with the chunk's gzip stream or its first failure.
   */
  private compressChunk(chunk: ChunkSpan): { read: Promise<boolean>; promise: Promise<CompressedChunk> } {
    const deflated: Promise<Buffer>[] = [];
    let crc = 0;
    let length = 0;
    let failure: { error: unknown } | undefined;
    const expected = chunk.end - chunk.start;
    const read = (async () => {
      const segments = this.options.segments(chunk);
      let before: Buffer | undefined;
      try {
        while (length < expected) {
          await this.until(() => this.segmentsWorking < this.options.segmentWindow);
          if (this.stopped) return false;
          const step = await segments.next();
          if (step.done) throw new Error(`chunk ${chunk.number} ended after ${length} of ${expected} bytes`);
          const segment = step.value;
          length += segment.length;
          if (length > expected) throw new Error(`chunk ${chunk.number} has more than ${expected} bytes`);
          crc = crc32(segment, crc);
          const dictionary = before;
          before = lastBytes(before, segment, DICTIONARY_BYTES);
          deflated.push(this.deflateSegment(segment, { dictionary, last: length === expected }));
        }
        return true;
      } catch (error) {
        failure = { error };
        return false;
      } finally {
        if (length < expected || failure) await segments.return?.();
      }
    })();
    const promise = read.then(async (complete) => {
      if (failure) throw failure.error;
      // A segment's failure is why reading stopped, if one failed: that is the error to report.
      const parts = await Promise.all(deflated);
      if (!complete) throw new Error(`chunk ${chunk.number} was not read to its end`);
      const pieces = [gzipHeader(this.options.level), ...parts, gzipTrailer(crc, length)];
      return { ...chunk, pieces, length: pieces.reduce((sum, piece) => sum + piece.length, 0) };
    });
    return { read, promise };
  }

  private deflateSegment(segment: Buffer, options: Omit<SegmentOptions, 'level'>): Promise<Buffer> {
    this.segmentsWorking++;
    const deflating = this.options.deflate(segment, options);
    const settled = () => {
      this.segmentsWorking--;
      this.wake?.();
    };
    deflating.then(settled, () => {
      settled();
      // Once one segment fails the message cannot complete, so nothing more is read.
      this.stopped = true;
    });
    this.track(deflating);
    return deflating;
  }

  /** Keeps a promise for close() to wait on, marked handled: its failure reaches whoever takes its chunk. */
  private track(work: Promise<unknown> | { promise: Promise<unknown> }): void {
    const promise = work instanceof Promise ? work : work.promise;
    this.working.add(promise);
    promise.then(
      () => this.working.delete(promise),
      () => this.working.delete(promise),
    );
  }

  /** The slot of the index-th chunk from the start, made the first time either side asks for it. */
  private slot(index: number): Slot {
    let slot = this.slots.get(index);
    if (!slot) {
      let resolve!: Slot['resolve'];
      const promise = new Promise<CompressedChunk | undefined>((r) => (resolve = r));
      promise.catch(() => undefined);
      slot = { promise, resolve };
      this.slots.set(index, slot);
    }
    return slot;
  }
}

/** The last `size` bytes of `before` followed by `segment`, copied: a segment's memory is lent away after this. */
function lastBytes(before: Buffer | undefined, segment: Buffer, size: number): Buffer {
  if (segment.length >= size || !before)
    return Buffer.from(segment.subarray(Math.max(0, segment.length - size)));
  const joined = Buffer.concat([before, segment]);
  return joined.subarray(Math.max(0, joined.length - size));
}
