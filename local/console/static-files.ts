import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/**
 * Serves a file under `root` for a URL path, as CloudFront serves the bucket: nothing outside `root`, a folder
 * path gets its index.html. Answers false when there is no such file.
 */
export async function serveFile(
  res: ServerResponse,
  root: string,
  urlPath: string,
  headers: Record<string, string>,
): Promise<boolean> {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath);
  } catch {
    return false;
  }
  const base = resolve(root);
  let path = resolve(join(base, normalize(relative)));
  if (path !== base && !path.startsWith(base + sep)) return false;
  let info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    path = join(path, 'index.html');
    info = await stat(path).catch(() => undefined);
  }
  if (!info?.isFile()) return false;
  res.writeHead(200, {
    ...headers,
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': String(info.size),
  });
  createReadStream(path).pipe(res);
  return true;
}
