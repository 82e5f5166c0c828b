import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { rules } from 'cdk-nag';
import type { MeshPipeline } from './constructs/mesh-pipeline.js';
import { CfnManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { FUNCTIONS, KEY_LAYOUT, type FunctionSpec } from '../shared/wiring/pipeline.js';

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
  secretRotation:
    'MESH credentials are issued by NHS England (the client certificate from a CSR through the MESH team, the ' +
    'password by the MESH service desk), so no Secrets Manager rotation function can obtain new ones. The daily ' +
    'health check publishes the certificate days to expiry and alarms 30 days ahead; the documented ' +
    'put-secret-value procedure replaces credentials without a redeploy.',
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
  lambdaOutsideVpc:
    'MESH is an internet-facing NHS service reached over mutual TLS, and the AWS APIs are public endpoints over ' +
    'TLS. The vpc setting places the functions in a VPC with HTTPS-only egress where local policy requires it.',
  lambdaVpcManagedPolicy:
    "Lambda needs ec2:CreateNetworkInterface and friends to attach to the VPC; AWS's managed " +
    'AWSLambdaVPCAccessExecutionRole grants exactly those and no data access.',
  importedVpc:
    'The VPC and subnets are imported by id so that synth needs no AWS credentials. Lambda needs only the subnet ' +
    'ids; the availability zones and route tables CDK warns about are never read.',
  prefixWildcard:
    'An S3 object ARN needs a wildcard to name a key prefix. This one is limited to the mailbox own prefix ' +
    '(outbound/{MAILBOX}/ to read, inbound/{MAILBOX}/ to write), which is the least privilege S3 can express.',
} as const;

const VPC_POLICY =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

/**
 * Every acknowledgement of the pipeline's resources in `stack`, in this one file so that they are reviewed
 * together. Acknowledgements are computed from the pipeline (its mailboxes, its VPC placement) so that each names a
 * construct that exists; wildcard findings are acknowledged only when they are the expected prefix.
 */
export function nagAcknowledgements(stack: Stack, pipeline: MeshPipeline): NagAcknowledgement[] {
  const acks: NagAcknowledgement[] = [];
  const add = (construct: IConstruct, id: string, reason: string) => {
    if (Stack.of(construct) === stack) acks.push({ path: relativePath(stack, construct), id, reason });
  };

  const storage = pipeline.storage;
  for (const mailbox of storage.mailboxes.values()) {
    add(mailbox.secret, 'AwsSolutions-SMG4', REASONS.secretRotation);
    add(mailbox.secret, 'HIPAA.Security-SecretsManagerRotationEnabled', REASONS.secretRotation);
  }
  add(storage.accessLogsBucket, 'HIPAA.Security-S3DefaultEncryptionKMS', REASONS.accessLogsEncryption);
  for (const bucket of [storage.accessLogsBucket, storage.outboundBucket, storage.inboundBucket]) {
    add(bucket, 'HIPAA.Security-S3BucketReplicationEnabled', REASONS.replication);
  }

  // The event relay, one for the deployment, is a queue consumer like the others and has the same findings.
  for (const f of pipeline.allFunctions()) {
    add(f.fn, 'HIPAA.Security-LambdaDLQ', REASONS.lambdaDeadLetterQueue);
    if (pipeline.securityGroup) add(f.role, VPC_POLICY, REASONS.lambdaVpcManagedPolicy);
    else add(f.fn, 'HIPAA.Security-LambdaInsideVPC', REASONS.lambdaOutsideVpc);
    // Only the wildcards the wiring calls for are accepted; any other stays a failing finding.
    const expected = new Set(expectedWildcards(pipeline, f.mailboxId, FUNCTIONS[f.name]));
    for (const finding of wildcardFindings(f.policy.node.defaultChild)) {
      if (expected.has(finding)) add(f.policy, `AwsSolutions-IAM5[${finding}]`, REASONS.prefixWildcard);
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
 * The findings that the mailbox's own prefixes produce, in cdk-nag's own words: a scratch policy holding only them
 * is checked by the same rule, so nothing here depends on how cdk-nag prints a CloudFormation reference.
 */
function expectedWildcards(
  pipeline: MeshPipeline,
  mailboxId: string | undefined,
  spec: FunctionSpec,
): string[] {
  // A function of the whole deployment has no mailbox prefix, so no wildcard of its own is acceptable.
  if (mailboxId === undefined) return [];
  const arns: string[] = [];
  if (spec.readsOutboundBucket) {
    arns.push(pipeline.storage.objectsArn('outbound', `${KEY_LAYOUT.outboundPrefix(mailboxId)}*`));
  }
  if (spec.writesInboundBucket) {
    arns.push(pipeline.storage.objectsArn('inbound', `${KEY_LAYOUT.inboundPrefix(mailboxId)}*`));
  }
  if (arns.length === 0) return [];
  const scratch = new Stack();
  const policy = new CfnManagedPolicy(scratch, 'Expected', {
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: arns }],
    },
  });
  return wildcardFindings(policy);
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
  const stacks = new Set([Stack.of(pipeline.storage), Stack.of(pipeline)]);
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
