import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

/** Where `npm start` writes its LocalPipelineFile, relative to the project root (the CLI's working directory). */
export const LOCAL_PIPELINE_FILE = '.local/pipeline.json';

const queueSchema = z.object({ url: z.url(), dlqUrl: z.url() });

export const localPipelineFileSchema = z.object({
  /** The emulators' endpoints, e.g. `http://127.0.0.1:4566`. */
  endpoints: z.object({ s3: z.url(), sqs: z.url(), dynamodb: z.url(), secretsManager: z.url() }),
  region: z.string().min(1),
  tableName: z.string().min(1),
  /** Secrets Manager name prefix of the mailbox secrets (`{prefix}{MAILBOX}`); may be empty. */
  secretPrefix: z.string(),
  outboundBucket: z.string().min(1),
  inboundBucket: z.string().min(1),
  queues: z.object({ send: queueSchema, download: queueSchema }),
});

/**
 * What `npm start` writes to `.local/pipeline.json` so the operator CLI can reach the local pipeline:
 *
 * ```json
 * { "endpoints": { "s3": "http://127.0.0.1:…", "sqs": "…", "dynamodb": "…", "secretsManager": "…" },
 *   "region": "eu-west-2", "tableName": "mesh-pipeline", "secretPrefix": "mesh/",
 *   "outboundBucket": "mesh-outbound", "inboundBucket": "mesh-inbound",
 *   "queues": { "send": { "url": "…", "dlqUrl": "…" }, "download": { "url": "…", "dlqUrl": "…" } } }
 * ```
 */
export type LocalPipelineFile = z.infer<typeof localPipelineFileSchema>;

/** Writes the file under a temporary name and renames it, so a CLI run never reads half of it. */
export async function writeLocalPipelineFile(path: string, file: LocalPipelineFile): Promise<void> {
  const checked = localPipelineFileSchema.parse(file);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checked, null, 2)}\n`);
  await rename(temporary, path);
}
