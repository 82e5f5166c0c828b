export { seededRandom } from '../mesh-server/faults.js';
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Deterministic pseudo-random bytes for a file (AES-CTR keystream keyed by seed and index): fast enough for
 * hundreds of megabytes, streamed, and reproducible from the seed.
 */
export function fileBytes(seed: number, index: number, size: number): Readable {
  const key = createHash('sha256').update(`chaos:${seed}:${index}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const block = Buffer.alloc(1024 * 1024);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(block.length, left);
      left -= n;
      this.push(cipher.update(block.subarray(0, n)));
    },
  });
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of stream) hash.update(piece as Buffer);
  return hash.digest('hex');
}
