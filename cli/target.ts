/**
 * Which pipeline an operator command acts on: a deployed one, found from its CloudFormation stack outputs, or the
 * local one `npm start` runs, found from the file it writes (`.local/pipeline.json`).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createAwsClients, type AwsClientConfigs, type AwsClients } from '../shared/aws/clients.js';
import type { PipelineLocation } from '../shared/operations/ports.js';
import {
  LOCAL_PIPELINE_FILE,
  localPipelineFileSchema,
  writeLocalPipelineFile,
  type LocalPipelineFile,
} from '../local/pipeline/pipeline-file.js';
import { UsageError } from './errors.js';

export { LOCAL_PIPELINE_FILE, writeLocalPipelineFile, type LocalPipelineFile };

/** Checks a LocalPipelineFile, naming every problem. */
export function parseLocalPipelineFile(value: unknown, source: string): LocalPipelineFile {
  const result = localPipelineFileSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new UsageError(`${source} is not a local pipeline description: ${problems.join('; ')}`);
}

export async function readLocalPipelineFile(path: string): Promise<LocalPipelineFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`no local pipeline: cannot read ${path} (npm start writes it while it runs)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
  return parseLocalPipelineFile(value, path);
}

/** The emulators accept any credentials except S3 (s3rver), which wants its own built-in pair. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export function localClientConfigs(file: LocalPipelineFile): AwsClientConfigs {
  const common = { region: file.region, credentials: { ...LOCAL_CREDENTIALS } };
  return {
    s3: {
      ...common,
      endpoint: file.endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
    sqs: { ...common, endpoint: file.endpoints.sqs },
    dynamodb: { ...common, endpoint: file.endpoints.dynamodb },
    secretsManager: { ...common, endpoint: file.endpoints.secretsManager },
  };
}

/**
 * The stack outputs an operator command reads. A deployment split into several stacks is given as several
 * `--stack` flags: their outputs are merged (DataKeyArn may be absent: new secrets then use Secrets Manager's
 * default key).
 */
export const STACK_OUTPUTS = {
  tableName: 'TableName',
  secretPrefix: 'SecretPrefix',
  dataKeyArn: 'DataKeyArn',
  outboundBucket: 'OutboundBucketName',
  inboundBucket: 'InboundBucketName',
  sendQueueUrl: 'SendQueueUrl',
  sendDlqUrl: 'SendDlqUrl',
  downloadQueueUrl: 'DownloadQueueUrl',
  downloadDlqUrl: 'DownloadDlqUrl',
} as const;

/** Builds the pipeline's location from merged stack outputs, naming every output that is missing. */
export function locationFromStackOutputs(
  outputs: Readonly<Record<string, string>>,
  stacks: readonly string[],
): PipelineLocation {
  const required = Object.entries(STACK_OUTPUTS).filter(([name]) => name !== 'dataKeyArn');
  // SecretPrefix may be an empty string; everything else must have a value.
  const missing = required
    .filter(
      ([name, output]) => outputs[output] === undefined || (name !== 'secretPrefix' && !outputs[output]),
    )
    .map(([, output]) => output);
  if (missing.length > 0) {
    throw new UsageError(
      `stack${stacks.length > 1 ? 's' : ''} ${stacks.join(', ')} lack${stacks.length > 1 ? '' : 's'} the output(s) ` +
        `${missing.join(', ')} (give every stack of the deployment with --stack)`,
    );
  }
  const o = (name: keyof typeof STACK_OUTPUTS) => outputs[STACK_OUTPUTS[name]]!;
  return {
    tableName: o('tableName'),
    secretPrefix: o('secretPrefix'),
    dataKeyArn: outputs[STACK_OUTPUTS.dataKeyArn] || undefined,
    outboundBucket: o('outboundBucket'),
    inboundBucket: o('inboundBucket'),
    queues: {
      send: { url: o('sendQueueUrl'), dlqUrl: o('sendDlqUrl') },
      download: { url: o('downloadQueueUrl'), dlqUrl: o('downloadDlqUrl') },
    },
  };
}

export interface TargetFlags {
  readonly stack?: readonly string[];
  readonly local?: boolean;
  readonly 'local-file'?: string;
}

/** An opened pipeline: where it is and SDK clients that reach it. */
export interface PipelineTarget {
  /** For messages: `stack MeshPipelineData (eu-west-2)` or `local pipeline (.local/pipeline.json)`. */
  readonly description: string;
  /** The local pipeline of `npm start` (its emulators stop with it). */
  readonly local: boolean;
  readonly location: PipelineLocation;
  readonly clients: AwsClients;
  close(): void;
}

/** Reads the outputs of each named stack (in the region of the usual AWS settings). */
export type StackOutputReader = (stacks: readonly string[]) => Promise<Record<string, string>>;

/**
 * Picks the pipeline: `--stack NAME` (repeatable, or MESH_PIPELINE_STACK=NAME[,NAME]) for a deployed one; `--local`
 * or `--local-file FILE` for the local one, which is also the default when no stack is given and
 * `.local/pipeline.json` exists.
 */
export async function openTarget(
  flags: TargetFlags,
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; readStackOutputs?: StackOutputReader } = {},
): Promise<PipelineTarget> {
  const local = flags.local === true || flags['local-file'] !== undefined;
  if (local && flags.stack?.length) throw new UsageError('give --stack or --local, not both');
  const stacks = local
    ? []
    : (flags.stack ?? (env.MESH_PIPELINE_STACK ?? '').split(',')).map((s) => s.trim()).filter(Boolean);
  const defaultFile = resolve(options.cwd ?? process.cwd(), LOCAL_PIPELINE_FILE);
  if (local || (stacks.length === 0 && existsSync(defaultFile))) {
    const path = flags['local-file']
      ? resolve(options.cwd ?? process.cwd(), flags['local-file'])
      : defaultFile;
    const file = await readLocalPipelineFile(path);
    return opened(`local pipeline (${path})`, true, locationOfLocal(file), localClientConfigs(file));
  }
  if (stacks.length === 0) {
    throw new UsageError(
      'no pipeline to act on: give --stack NAME for a deployed one, or start the local one with npm start ' +
        `(it writes ${LOCAL_PIPELINE_FILE})`,
    );
  }
  const outputs = await (options.readStackOutputs ?? readStackOutputs)(stacks);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return opened(
    `stack${stacks.length > 1 ? 's' : ''} ${stacks.join(', ')}${region ? ` (${region})` : ''}`,
    false,
    locationFromStackOutputs(outputs, stacks),
    {},
  );
}

function locationOfLocal(file: LocalPipelineFile): PipelineLocation {
  return {
    tableName: file.tableName,
    secretPrefix: file.secretPrefix,
    outboundBucket: file.outboundBucket,
    inboundBucket: file.inboundBucket,
    queues: file.queues,
  };
}

function opened(
  description: string,
  local: boolean,
  location: PipelineLocation,
  configs: AwsClientConfigs,
): PipelineTarget {
  // Locally, a stopped pipeline should be reported at once, not after the SDK's retries.
  const clients = createAwsClients(local ? withAttempts(configs, 1) : configs);
  return {
    description,
    local,
    location,
    clients,
    close: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

function withAttempts(configs: AwsClientConfigs, maxAttempts: number): AwsClientConfigs {
  return {
    s3: { ...configs.s3, maxAttempts },
    sqs: { ...configs.sqs, maxAttempts },
    dynamodb: { ...configs.dynamodb, maxAttempts },
    secretsManager: { ...configs.secretsManager, maxAttempts },
  };
}

/** DescribeStacks of each stack, outputs merged; the same output with two different values is an error. */
async function readStackOutputs(stacks: readonly string[]): Promise<Record<string, string>> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({ maxAttempts: 5 });
  try {
    const merged: Record<string, string> = {};
    for (const name of stacks) {
      let described;
      try {
        described = await client.send(new DescribeStacksCommand({ StackName: name }));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (/does not exist/.test(message))
          throw new UsageError(`stack ${name} does not exist in this region`);
        if (/region/i.test(message) && /missing/i.test(message)) {
          throw new UsageError('no AWS region: set AWS_REGION (or a region in your AWS profile)');
        }
        throw error;
      }
      for (const output of described.Stacks?.[0]?.Outputs ?? []) {
        if (!output.OutputKey || output.OutputValue === undefined) continue;
        const earlier = merged[output.OutputKey];
        if (earlier !== undefined && earlier !== output.OutputValue) {
          throw new UsageError(`the stacks disagree on output ${output.OutputKey}: are they one deployment?`);
        }
        merged[output.OutputKey] = output.OutputValue;
      }
    }
    return merged;
  } finally {
    client.destroy();
  }
}
