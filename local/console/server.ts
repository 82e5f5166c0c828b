import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createConsoleFunction } from '../../functions/console-api/container.js';
import type { AwsClients } from '../../shared/aws/clients.js';
import { UPLOAD_CORS_HEADERS } from '../../shared/console/s3-url-signer.js';
import type { Log } from '../../shared/observability/ports.js';
import { functionEnvironment, type DeploymentNames } from '../../shared/wiring/pipeline.js';
import { createLambdaContext } from '../runtime/lambda-context.js';
import { httpApiEvent } from './api-event.js';
import { LocalIssuer } from './issuer.js';
import { serveFile } from './static-files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The pages, served as CloudFront serves them from the console bucket. */
export const CONSOLE_PAGES_DIR = `${ROOT}console`;
/** nhsuk-frontend's compiled CSS, JS and assets, served under /assets/nhsuk/ as the deployment copies them. */
export const NHSUK_DIST_DIR = `${ROOT}node_modules/nhsuk-frontend/dist/nhsuk`;
const CLIENT_ID = 'local-console';

/** What CloudFront's response headers policy sets in AWS: the same here, so the pages are tested under it. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self' http://127.0.0.1:* https://*.amazonaws.com; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface LocalConsoleOptions {
  /** The pipeline's deployment names (table, buckets, queues): the console's environment is built from them. */
  readonly deployment: Omit<DeploymentNames, 'console'>;
  readonly clients: AwsClients;
  readonly log: Log;
  /** @default 8780; 0 = any free port */
  readonly port?: number;
  /** Session lifetime of the local issuer's tokens. */
  readonly tokenSeconds?: number;
}

export interface LocalConsole {
  readonly url: string;
  readonly issuer: LocalIssuer;
  close(): Promise<void>;
}

/**
 * The console on this machine: the pages and nhsuk-frontend's assets as files, `/api/*` into the console function's
 * handler as HTTP API v2 events (the same composition root as in Lambda, with the wiring's environment), and the
 * local token issuer under `/issuer`. The buckets get CORS for the console's origin, so the browser can PUT and GET
 * the presigned URLs straight to the S3 emulator, as it does to S3.
 */
export async function startLocalConsole(options: LocalConsoleOptions): Promise<LocalConsole> {
  // Both need the server's port, so they are made once it listens; no request arrives before then.
  const wired: {
    issuer?: LocalIssuer;
    handler?: (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  } = {};
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      options.log.error('local console request failed', { error: String(error) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    if (url.pathname.startsWith('/issuer/') && (await wired.issuer!.handle(req, res, url))) return;
    if (url.pathname.startsWith('/api/')) {
      let body = '';
      for await (const chunk of req) {
        body += String(chunk);
        if (body.length > 65_536) {
          res.writeHead(413).end();
          return;
        }
      }
      const result = await wired.handler!(
        httpApiEvent(req, url, body),
        createLambdaContext('consoleApi', 29_000),
      );
      res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>) });
      res.end(result.body ?? '');
      return;
    }
    if (url.pathname === '/config.json') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          authorizeUrl: `${wired.issuer!.issuer}/authorize`,
          tokenUrl: `${wired.issuer!.issuer}/token`,
          clientId: CLIENT_ID,
          apiBase: '/api',
        }),
      );
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (url.pathname.startsWith('/assets/nhsuk/')) {
        if (
          await serveFile(res, NHSUK_DIST_DIR, url.pathname.slice('/assets/nhsuk/'.length), SECURITY_HEADERS)
        )
          return;
      } else if (await serveFile(res, CONSOLE_PAGES_DIR, url.pathname, SECURITY_HEADERS)) {
        return;
      }
    }
    res
      .writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' })
      .end('Page not found');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8780, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = new LocalIssuer({
    issuer: `${url}/issuer`,
    clientId: CLIENT_ID,
    tokenSeconds: options.tokenSeconds,
  });
  const env = functionEnvironment('consoleApi', {
    ...options.deployment,
    console: { issuer: issuer.issuer, audience: CLIENT_ID, jwksUri: issuer.jwksUri },
  });
  const built = createConsoleFunction(env, {
    clients: options.clients,
    log: options.log,
    metrics: { add: () => undefined },
  });
  wired.issuer = issuer;
  wired.handler = built.handler as typeof wired.handler;
  await allowBrowserUploads(
    options.clients.s3,
    [options.deployment.outboundBucket, options.deployment.inboundBucket],
    url,
  );
  return {
    url,
    issuer,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await built.close();
    },
  };
}

/** CORS on the local buckets for the console's origin: the browser PUTs uploads and GETs downloads straight to S3. */
async function allowBrowserUploads(s3: S3Client, buckets: readonly string[], origin: string): Promise<void> {
  for (const bucket of buckets) {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [origin],
              AllowedMethods: ['PUT', 'GET', 'HEAD'],
              // The headers AWS's rule allows (the construct uses the same list), so a header the page sends and
              // the rule forgets fails here too.
              AllowedHeaders: [...UPLOAD_CORS_HEADERS],
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
  }
}
