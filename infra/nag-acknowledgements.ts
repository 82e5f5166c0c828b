import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { rules } from 'cdk-nag';
import type { MeshPipeline } from './constructs/mesh-pipeline.js';
import { CfnManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { FUNCTIONS, type FunctionSpec } from '../shared/wiring/pipeline.js';
import type { FunctionParts } from './constructs/runtime/least-privilege-function.js';
import { KEY_ROOTS } from './constructs/storage/pipeline-storage.js';

/** One accepted cdk-nag finding: which rule, on which construct, and why it is acceptable here. */
export interface NagAcknowledgement {
  /** Construct path below the stack, e.g. `OutboundQueue/Resource`; `''` for the whole stack. */
  readonly path: string;
  /** Rule id as cdk-nag reports it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** Why the finding is accepted; reviewed like code. */
  readonly reason: string;
}

/** Why each accepted finding is acceptable. Every acknowledgement in the app uses one of these. */
export const REASONS = {
  accessLogsEncryption:
    'S3 delivers server access logs only to buckets encrypted with S3-managed keys (SSE-S3). The bucket holds ' +
    'request records, not message content, and is private, versioned and TLS-only like the data buckets.',
  replication:
    'Cross-region replication would copy NHS data out of the one UK AWS region (London). Durability comes from ' +
    "S3's multi-AZ storage and versioning; a replica can be added where a DPIA allows another region.",
  lambdaDeadLetterQueue:
    'Queue consumers are invoked synchronously by their event source mapping, where a function DLQ never ' +
    "applies: failing records go to the source queue's alarmed dead-letter queue. Scheduled functions are " +
    'idempotent, the next run repeats their work, and their failures raise the function errors alarm.',
  seedDeadLetterQueue:
    'The registry seeding function is invoked only by CloudFormation during a deployment, and always answers it: ' +
    'a failure fails the deployment with the reason in the stack events, and the seeding is repeated by the next ' +
    'deployment (its adds are conditional). An event parked in a dead-letter queue would help nobody.',
  lambdaOutsideVpc:
    'MESH is an internet-facing NHS service reached over mutual TLS, and the AWS APIs are public endpoints over ' +
    'TLS. The vpc setting places the functions in a VPC with HTTPS-only egress where local policy requires it.',
  lambdaVpcManagedPolicy:
    "Lambda needs ec2:CreateNetworkInterface and friends to attach to the VPC; AWS's managed " +
    'AWSLambdaVPCAccessExecutionRole grants exactly those and no data access.',
  noReservedConcurrency:
    'Reserved concurrency is turned off by the reserveConcurrency setting, for an account whose Lambda concurrency ' +
    'quota is too small to reserve it (a new account has 10). The queue consumers are still capped by their event ' +
    "source mappings' maximum concurrency and each mailbox by its concurrency slots.",
  importedVpc:
    'The VPC and subnets are imported by id so that synth needs no AWS credentials. Lambda needs only the subnet ' +
    'ids; the availability zones and route tables CDK warns about are never read.',
  bucketRootWildcard:
    'An S3 object ARN needs a wildcard to name a key prefix. One function serves every mailbox, so this one is the ' +
    "pipeline's root (outbound/ to read, inbound/ to write) in the deployment's own bucket, and no wider; the " +
    "function checks every task's keys against the task's mailbox before it reads or writes them.",
  secretPrefixWildcard:
    'Operators create the mailbox secrets after deployment (mesh mailbox set-credentials), so their names are not ' +
    "known to the template: the grant is GetSecretValue on the deployment's own secret prefix in this account and " +
    "region, which is the deployment's isolation boundary. The trailing wildcard also covers the random suffix " +
    'Secrets Manager adds to every secret ARN.',
  theirBucketNotifications:
    "The outbound bucket is the user's own, so the pipeline adds its notification beside the bucket's other " +
    "notifications through CDK's own notification handler, as the bucket's addEventNotification does, rather than " +
    "write over them. That handler is CDK's: its role has only the basic Lambda execution policy (its logs) and an " +
    'inline policy allowing s3:PutBucketNotification on that one bucket; it runs only during deployments.',
} as const;

const BASIC_EXECUTION_POLICY =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
/** The id CDK gives its one bucket notification handler in a stack. */
const NOTIFICATIONS_HANDLER_ID = /^BucketNotificationsHandler[0-9a-f]{32}$/;

const VPC_POLICY =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

/**
 * Every acknowledgement of the pipeline's resources in `stack`, in this one file so that they are reviewed
 * together. Acknowledgements are computed from the pipeline (its functions, its VPC placement) so that each names a
 * construct that exists; wildcard findings are acknowledged only when they are the ones the wiring calls for.
 */
export function nagAcknowledgements(stack: Stack, pipeline: MeshPipeline): NagAcknowledgement[] {
  const acks: NagAcknowledgement[] = [];
  const add = (construct: IConstruct, id: string, reason: string) => {
    if (Stack.of(construct) === stack) acks.push({ path: relativePath(stack, construct), id, reason });
  };

  const storage = pipeline.storage;
  add(storage.accessLogsBucket, 'HIPAA.Security-S3DefaultEncryptionKMS', REASONS.accessLogsEncryption);
  for (const bucket of [storage.accessLogsBucket, storage.outboundBucket, storage.inboundBucket]) {
    add(bucket, 'HIPAA.Security-S3BucketReplicationEnabled', REASONS.replication);
  }

  const theirOutbound = storage.outboundBucket;
  if (theirOutbound instanceof Bucket && theirOutbound.node.scope !== storage) {
    const handlerPolicy = theirOutbound.node
      .tryFindChild('Notifications')
      ?.node.tryFindChild('HandlerPolicy');
    if (handlerPolicy)
      add(handlerPolicy, 'HIPAA.Security-IAMNoInlinePolicy', REASONS.theirBucketNotifications);
    const handlerRole = Stack.of(theirOutbound)
      .node.children.find((child) => NOTIFICATIONS_HANDLER_ID.test(child.node.id))
      ?.node.tryFindChild('Role');
    if (handlerRole) add(handlerRole, BASIC_EXECUTION_POLICY, REASONS.theirBucketNotifications);
  }

  const functions: { parts: FunctionParts; deadLetter: string; expected: ReadonlyMap<string, string> }[] = [
    ...pipeline.allFunctions().map((f) => ({
      parts: f,
      deadLetter: REASONS.lambdaDeadLetterQueue,
      expected: expectedWildcards(Stack.of(f.policy), pipeline, FUNCTIONS[f.name]),
    })),
    // The seeding function has no wildcard of its own: only the table, by ARN.
    { parts: pipeline.registrySeed, deadLetter: REASONS.seedDeadLetterQueue, expected: new Map() },
  ];
  for (const { parts, deadLetter, expected } of functions) {
    add(parts.fn, 'HIPAA.Security-LambdaDLQ', deadLetter);
    if (pipeline.securityGroup) add(parts.role, VPC_POLICY, REASONS.lambdaVpcManagedPolicy);
    else add(parts.fn, 'HIPAA.Security-LambdaInsideVPC', REASONS.lambdaOutsideVpc);
    if ((parts.fn.node.defaultChild as CfnFunction).reservedConcurrentExecutions === undefined) {
      add(parts.fn, 'HIPAA.Security-LambdaConcurrency', REASONS.noReservedConcurrency);
    }
    // Only the wildcards the wiring calls for are accepted; any other stays a failing finding.
    for (const finding of wildcardFindings(parts.policy.node.defaultChild)) {
      const reason = expected.get(finding);
      if (reason) add(parts.policy, `AwsSolutions-IAM5[${finding}]`, reason);
    }
  }
  return acks;
}

/** The IAM5 findings cdk-nag reports for a policy resource, computed by cdk-nag's own rule. */
function wildcardFindings(resource: IConstruct | undefined): string[] {
  if (!resource || !CfnResource.isCfnResource(resource)) return [];
  const result = rules.iam.IAMNoWildcardPermissions(resource);
  return Array.isArray(result) ? result : [];
}

/**
 * The findings that the function's expected wildcards produce, in cdk-nag's own words, each with its reason: a
 * scratch policy holding only one of them is checked by the same rule, so nothing here depends on how cdk-nag prints
 * a CloudFormation reference.
 */
function expectedWildcards(stack: Stack, pipeline: MeshPipeline, spec: FunctionSpec): Map<string, string> {
  const { storage } = pipeline;
  const expected = new Map<string, string>();
  const accept = (arn: string, reason: string) => {
    for (const finding of scratchFindings(stack, arn)) expected.set(finding, reason);
  };
  if (spec.usesMesh) accept(storage.secretArnPattern(), REASONS.secretPrefixWildcard);
  if (spec.readsOutboundBucket) {
    accept(storage.objectsArn('outbound', `${KEY_ROOTS.outbound}*`), REASONS.bucketRootWildcard);
  }
  if (spec.writesInboundBucket) {
    accept(storage.objectsArn('inbound', `${KEY_ROOTS.inbound}*`), REASONS.bucketRootWildcard);
  }
  return expected;
}

/**
 * The findings of a scratch policy holding only `arn`, built in the policy's own stack (a reference to a bucket the
 * consumer's app defines resolves only there) and removed again at once, so it never reaches the template.
 */
function scratchFindings(stack: Stack, arn: string): string[] {
  const id = 'NagScratchExpectedWildcard';
  const policy = new CfnManagedPolicy(stack, id, {
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: [arn] }],
    },
  });
  try {
    return wildcardFindings(policy);
  } finally {
    stack.node.tryRemoveChild(id);
  }
}

function relativePath(stack: Stack, construct: IConstruct): string {
  return construct.node.path.slice(stack.node.path.length + 1);
}

/** CDK's warnings about a VPC imported by id, which the functions' placement does not depend on. */
export function acknowledgeImportedVpc(vpc: IConstruct, subnets: readonly IConstruct[]): void {
  Validations.of(vpc).acknowledge({
    id: 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
    reason: REASONS.importedVpc,
  });
  for (const subnet of subnets) {
    Validations.of(subnet).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: REASONS.importedVpc,
    });
  }
}

/**
 * Applies the pipeline's acknowledgements to each stack it spans: the way to use the construct in another app with
 * cdk-nag, as createApp does.
 */
export function acknowledgeMeshPipeline(pipeline: MeshPipeline): void {
  // With the stack of an outbound bucket the user brings, where its notification handler is.
  const stacks = new Set([
    Stack.of(pipeline.storage),
    Stack.of(pipeline),
    Stack.of(pipeline.storage.outboundBucket),
  ]);
  for (const stack of stacks) acknowledgeNagFindings(stack, nagAcknowledgements(stack, pipeline));
}

const MIN_REASON_LENGTH = 20;

/**
 * Applies a stack's acknowledgements. An acknowledgement whose construct no longer exists, or whose reason is a
 * token gesture, fails synthesis: a stale one would otherwise silently cover the next construct given that path.
 */
export function acknowledgeNagFindings(stack: Stack, acknowledgements: readonly NagAcknowledgement[]): void {
  const problems: string[] = [];
  for (const acknowledgement of acknowledgements) {
    const path = acknowledgement.path === '' ? stack.node.path : `${stack.node.path}/${acknowledgement.path}`;
    const target = stack.node.findAll().find((construct) => construct.node.path === path);
    if (!target) problems.push(`${acknowledgement.id}: no construct at ${path}`);
    if (acknowledgement.reason.trim().length < MIN_REASON_LENGTH) {
      problems.push(`${acknowledgement.id} at ${path}: give a real reason`);
    }
    if (target)
      Validations.of(target).acknowledge({ id: acknowledgement.id, reason: acknowledgement.reason });
  }
  // Reported together, so one synth shows every stale or unexplained acknowledgement.
  if (problems.length > 0) throw new Error(`invalid cdk-nag acknowledgements:\n${problems.join('\n')}`);
}
