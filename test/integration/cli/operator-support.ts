/** A local pipeline's table, buckets, queues and secrets on the emulators, described as `npm start` describes it. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { main } from '../../../cli/run.js';
import { writeLocalPipelineFile, type LocalPipelineFile } from '../../../cli/target.js';
import { createBucket, createQueue, startLocalAws, type LocalAws } from '../../../local/aws/index.js';
import { createPipelineTable } from '../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../shared/aws/clients.js';

export interface OperatorPipeline {
  readonly aws: LocalAws;
  readonly clients: AwsClients;
  readonly file: LocalPipelineFile;
  /** Where the LocalPipelineFile is written. */
  readonly path: string;
  readonly dir: string;
  close(): Promise<void>;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function startOperatorPipeline(): Promise<OperatorPipeline> {
  const aws = await startLocalAws();
  const dir = await mkdtemp(join(tmpdir(), 'mesh-operator-'));
  const dynamo = new DynamoDBClient(aws.clientConfig('dynamodb'));
  await createPipelineTable(dynamo, 'mesh-pipeline').finally(() => dynamo.destroy());
  await createBucket(aws, 'mesh-outbound');
  await createBucket(aws, 'mesh-inbound');
  const send = await createQueue(aws, 'mesh-send', { dlq: { maxReceiveCount: 8 } });
  const download = await createQueue(aws, 'mesh-download', { dlq: { maxReceiveCount: 8 } });
  const file: LocalPipelineFile = {
    endpoints: aws.endpoints,
    region: aws.region,
    tableName: 'mesh-pipeline',
    secretPrefix: 'mesh/',
    outboundBucket: 'mesh-outbound',
    inboundBucket: 'mesh-inbound',
    queues: {
      send: { url: send.url, dlqUrl: send.dlq!.url },
      download: { url: download.url, dlqUrl: download.dlq!.url },
    },
  };
  const path = join(dir, 'pipeline.json');
  await writeLocalPipelineFile(path, file);
  const clients = createAwsClients({
    s3: aws.clientConfig('s3'),
    sqs: aws.clientConfig('sqs'),
    dynamodb: aws.clientConfig('dynamodb'),
    secretsManager: aws.clientConfig('secretsManager'),
  });
  return {
    aws,
    clients,
    file,
    path,
    dir,
    async close() {
      for (const client of Object.values(clients)) client.destroy();
      await aws.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `mesh <args> --local-file <pipeline>` in this process, as bin.mjs would, with `stdin` as its input. */
export async function runOperator(
  pipeline: Pick<OperatorPipeline, 'path'>,
  args: readonly string[],
  stdin?: string,
): Promise<RunResult> {
  const stdout = collector();
  const stderr = collector();
  const code = await main([...args, '--local-file', pipeline.path], {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: {},
    stdin: stdin === undefined ? new PassThrough() : Readable.from([Buffer.from(stdin)]),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return { stream, text: () => text };
}

/** The one JSON document of a --json run. */
export function json<T = Record<string, unknown>>(result: RunResult): T {
  const lines = result.stdout.split('\n').filter(Boolean);
  if (lines.length !== 1) throw new Error(`expected one JSON line, got: ${result.stdout} ${result.stderr}`);
  return JSON.parse(lines[0]!) as T;
}
