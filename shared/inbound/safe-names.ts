import { extname } from 'node:path';

/** Control characters, NUL, and the invisible marks that can disguise a name (bidi overrides, zero-width). */
// eslint-disable-next-line no-control-regex -- these characters are exactly what must be removed
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/** Characters that are awkward in S3 keys, shells and other file systems. */
const AWKWARD = /[<>:"|?*\\^`{}[\]#%~]/g;
const MAX_NAME_BYTES = 200;

/**
 * A file name from a MESH header, made safe to use as the last segment of an S3 key: no directories, no
 * traversal, no control or invisible characters, bounded length (the extension kept). Falls back to
 * `{fallback}.dat` when nothing usable is left.
 */
export function safeFileName(raw: string | undefined, fallback: string): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  let name = lastSegment
    .normalize('NFC')
    .replace(UNSAFE, '')
    .replace(AWKWARD, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  if (!name || name === '.' || name === '..') return `${fallback}.dat`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) name = truncateKeepingExtension(name);
  return name;
}

/** A path segment for a workflow id: letters, digits, `_`, `-`, `.`, bounded. */
export function safeSegment(raw: string | undefined, fallback: string): string {
  const cleaned = (raw ?? '')
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 100);
  return cleaned || fallback;
}

function truncateKeepingExtension(name: string): string {
  const ext = extname(name);
  const keepExt = ext.length > 0 && Buffer.byteLength(ext) <= 16 ? ext : '';
  const stem = keepExt ? name.slice(0, -keepExt.length) : name;
  // One pass over whole code points: a hostile 16 KB name must not cost a quadratic loop.
  let room = MAX_NAME_BYTES - Buffer.byteLength(keepExt);
  let kept = '';
  for (const codePoint of stem) {
    room -= Buffer.byteLength(codePoint);
    if (room < 0) break;
    kept += codePoint;
  }
  return `${kept}${keepExt}`;
}
