import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { MeshMailboxProps } from '../constructs/props.js';
import type { OutboundRoute } from '../../shared/outbound/addressing.js';

/** The `meshPipeline` object in cdk.json (or `-c meshPipeline='{...}'`), as plain data. */
export interface PipelineContext {
  /** Stack names start with this: `{stackPrefix}Data` and `{stackPrefix}Functions`. */
  readonly stackPrefix?: string;
  readonly region?: string;
  readonly environment?: string;
  /** Secrets Manager name prefix of the mailbox secrets. @default `nhs-mesh-pipeline/{stackPrefix}/` */
  readonly secretPrefix?: string;
  readonly chunkBytes?: number;
  readonly mailboxes?: readonly MeshMailboxProps[];
  readonly alarms?: { readonly email?: string; readonly topicArn?: string };
  readonly vpc?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
  readonly reserveConcurrency?: boolean;
  readonly logRetentionDays?: RetentionDays;
  readonly removalPolicy?: 'retain' | 'destroy';
  readonly workQueueAgeAlarmMinutes?: number;
  readonly eventQueueAgeAlarmMinutes?: number;
}

export const CONTEXT_KEY = 'meshPipeline';

const TOP_KEYS = [
  'stackPrefix',
  'region',
  'environment',
  'secretPrefix',
  'chunkBytes',
  'mailboxes',
  'alarms',
  'vpc',
  'reserveConcurrency',
  'logRetentionDays',
  'removalPolicy',
  'workQueueAgeAlarmMinutes',
  'eventQueueAgeAlarmMinutes',
] as const;
const MAILBOX_KEYS = ['id', 'pollEveryMinutes', 'routes', 'expectInboundWithinHours'] as const;
const ROUTE_KEYS = ['prefix', 'to', 'workflowId', 'subject', 'contentType'] as const;
const RETENTION_DAYS = new Set(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const STACK_PREFIX = /^[A-Za-z][A-Za-z0-9-]{0,80}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

type Json = Record<string, unknown>;

/**
 * Reads the context value with its types checked and unknown keys refused (a misspelt key would otherwise be
 * ignored silently). Values are checked further by the construct's own validation; problems from both are
 * reported together.
 */
export function readPipelineContext(raw: unknown): { context?: PipelineContext; problems: string[] } {
  const problems: string[] = [];
  let value = raw;
  // `cdk -c key=value` passes strings, so the whole object may arrive as JSON text.
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      problems.push(`context ${CONTEXT_KEY} is not a JSON object`);
      return { problems };
    }
  }
  if (!isObject(value)) {
    problems.push(
      `context ${CONTEXT_KEY} is missing: add it to cdk.json or pass -c ${CONTEXT_KEY}='{...}' (see infra/README.md)`,
    );
    return { problems };
  }
  unknownKeys(CONTEXT_KEY, value, TOP_KEYS, problems);
  const read = new Reader(value, CONTEXT_KEY, problems);
  const context: PipelineContext = {
    stackPrefix: read.string(
      'stackPrefix',
      STACK_PREFIX,
      'letters, digits and hyphens, starting with a letter',
    ),
    region: read.string('region', REGION, 'an AWS region such as eu-west-2'),
    environment: read.string('environment'),
    secretPrefix: read.string('secretPrefix'),
    chunkBytes: read.number('chunkBytes'),
    mailboxes: readMailboxes(value.mailboxes, problems),
    alarms: readAlarms(value.alarms, problems),
    vpc: readVpc(value.vpc, problems),
    reserveConcurrency: read.boolean('reserveConcurrency'),
    logRetentionDays: read.number('logRetentionDays'),
    removalPolicy: read.oneOf('removalPolicy', ['retain', 'destroy'] as const),
    workQueueAgeAlarmMinutes: read.number('workQueueAgeAlarmMinutes'),
    eventQueueAgeAlarmMinutes: read.number('eventQueueAgeAlarmMinutes'),
  };
  if (context.logRetentionDays !== undefined && !RETENTION_DAYS.has(context.logRetentionDays)) {
    problems.push(
      `${CONTEXT_KEY}.logRetentionDays ${context.logRetentionDays} is not a CloudWatch Logs retention: use one of ` +
        [...RETENTION_DAYS].sort((a, b) => a - b).join(', '),
    );
  }
  return { context, problems };
}

function readMailboxes(value: unknown, problems: string[]): MeshMailboxProps[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    problems.push(`${CONTEXT_KEY}.mailboxes must be a list`);
    return undefined;
  }
  return value.flatMap((entry: unknown, index) => {
    const where = `${CONTEXT_KEY}.mailboxes[${index}]`;
    if (!isObject(entry)) {
      problems.push(`${where} must be an object`);
      return [];
    }
    if ('secretName' in entry) {
      problems.push(
        `${where}.secretName is no longer a setting: a mailbox's secret is {secretPrefix}{id}, created with ` +
          '`mesh mailbox set-credentials` (see infra/README.md)',
      );
    }
    unknownKeys(where, entry, MAILBOX_KEYS, problems, ['secretName']);
    const read = new Reader(entry, where, problems);
    const mailbox: MeshMailboxProps = {
      id: read.string('id') ?? '',
      pollEveryMinutes: read.number('pollEveryMinutes'),
      expectInboundWithinHours: read.number('expectInboundWithinHours'),
      routes: readRoutes(entry.routes, where, problems),
    };
    return [mailbox];
  });
}

function readRoutes(value: unknown, where: string, problems: string[]): OutboundRoute[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    problems.push(`${where}.routes must be a list`);
    return undefined;
  }
  return value.flatMap((entry: unknown, index) => {
    const at = `${where}.routes[${index}]`;
    if (!isObject(entry)) {
      problems.push(`${at} must be an object`);
      return [];
    }
    unknownKeys(at, entry, ROUTE_KEYS, problems);
    const read = new Reader(entry, at, problems);
    const route: OutboundRoute = {
      prefix: read.string('prefix') ?? '',
      to: read.string('to'),
      workflowId: read.string('workflowId'),
      subject: read.string('subject'),
      contentType: read.string('contentType'),
    };
    return [withoutUndefined(route)];
  });
}

function readAlarms(value: unknown, problems: string[]): PipelineContext['alarms'] {
  if (value === undefined) return undefined;
  const where = `${CONTEXT_KEY}.alarms`;
  if (!isObject(value)) {
    problems.push(`${where} must be an object`);
    return undefined;
  }
  unknownKeys(where, value, ['email', 'topicArn'], problems);
  const read = new Reader(value, where, problems);
  return {
    email: read.string('email'),
    topicArn: read.string('topicArn', TOPIC_ARN, 'an SNS topic ARN'),
  };
}

function readVpc(value: unknown, problems: string[]): PipelineContext['vpc'] {
  if (value === undefined) return undefined;
  const where = `${CONTEXT_KEY}.vpc`;
  if (!isObject(value)) {
    problems.push(`${where} must be an object`);
    return undefined;
  }
  unknownKeys(where, value, ['vpcId', 'subnetIds'], problems);
  const read = new Reader(value, where, problems);
  const vpcId = read.string('vpcId', /^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-...)');
  const subnetIds = value.subnetIds;
  const validSubnets =
    Array.isArray(subnetIds) &&
    subnetIds.length > 0 &&
    subnetIds.every((s) => typeof s === 'string' && /^subnet-[0-9a-f]{8,17}$/.test(s));
  if (!validSubnets) problems.push(`${where}.subnetIds must be a non-empty list of subnet ids (subnet-...)`);
  if (!vpcId) problems.push(`${where}.vpcId is missing`);
  return vpcId && validSubnets ? { vpcId, subnetIds: subnetIds as string[] } : undefined;
}

/** Typed reads of one object's fields, each wrong type added to the problems under the field's full path. */
class Reader {
  constructor(
    private readonly value: Json,
    private readonly where: string,
    private readonly problems: string[],
  ) {}

  string(key: string, pattern?: RegExp, shape?: string): string | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.problems.push(`${this.where}.${key} must be a string`);
      return undefined;
    }
    if (pattern && !pattern.test(v)) {
      this.problems.push(`${this.where}.${key} "${v}" is not ${shape ?? 'valid'}`);
      return undefined;
    }
    return v;
  }

  number(key: string): number | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') {
      this.problems.push(`${this.where}.${key} must be a number`);
      return undefined;
    }
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.problems.push(`${this.where}.${key} must be true or false`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(key: string, options: readonly T[]): T | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      this.problems.push(`${this.where}.${key} must be one of ${options.join(', ')}`);
      return undefined;
    }
    return v as T;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(
  where: string,
  value: Json,
  known: readonly string[],
  problems: string[],
  reportedElsewhere: readonly string[] = [],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && !reportedElsewhere.includes(key))
      problems.push(`${where}.${key} is not a known setting (known: ${known.join(', ')})`);
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
