import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { MeshConsole } from './mesh-console.js';

/** Why each accepted finding of the console is acceptable; every acknowledgement below uses one of these. */
export const CONSOLE_REASONS = {
  noWebAcl:
    'No WAF web ACL was given (webAclArn). Every API call carries a Cognito JWT checked twice (the HTTP API ' +
    'authorizer and the function), the API stage is throttled, and the pages are static files; attach a web ACL ' +
    'where local policy requires one.',
  noDistributionLogs:
    'The pages are static files holding no data. Every API call is logged in the API access log with the ' +
    "caller's subject, and the console's own audit trail records who sent, downloaded and redrove what.",
  defaultCertificate:
    'Without a custom domain CloudFront serves its own certificate, whose security policy CloudFront sets. Give ' +
    '`domain` (names and an ACM certificate) and viewers need TLS 1.2 or later (TLSv1.2_2021).',
  signedPrefixes:
    'An S3 object ARN needs a wildcard to name a key prefix. The console signs uploads only under ' +
    "outbound/{MAILBOX}/console/ and reads only the pipeline's outbound/ and inbound/ roots of the deployment's " +
    "own buckets; the function checks the user's mailbox grant before it signs anything.",
  secretPrefix:
    'Operators create the mailbox secrets after deployment, so their names are not known to the template: the ' +
    "console may read secrets under the deployment's own prefix only (and the random suffix Secrets Manager adds), " +
    "the same grant as the pipeline's MESH functions. It reads one only to ask MESH's endpoint lookup as a mailbox " +
    "the signed-in user's groups grant, and never returns any of it.",
  pagesReplication:
    'The bucket holds the static pages, which the deployment rebuilds from source at every deploy: a replica ' +
    'would hold nothing that is not in the repository.',
  pagesEncryption:
    "The pages are the application's public static files, no data; S3-managed keys let CloudFront's origin " +
    'access control read them without granting CloudFront use of the data key.',
  apiFunctionDlq:
    'API Gateway invokes the console function synchronously and returns its answer to the browser; a function ' +
    'dead-letter queue applies only to asynchronous invocations.',
  outsideVpc:
    'The console function calls AWS APIs (DynamoDB, S3 signing, SQS, Secrets Manager) over TLS, and MESH over ' +
    'mutual TLS for a recipient lookup only; the vpc setting places it in the VPC with the pipeline where local ' +
    'policy requires it.',
  noReservedConcurrency:
    'Reserved concurrency is turned off by the reserveConcurrency setting, for an account whose Lambda ' +
    'concurrency quota is too small to reserve it; the API stage throttles requests.',
  cdkDeployment:
    "CDK's BucketDeployment function copies the pages into their bucket at deploy time only, invoked by " +
    "CloudFormation. Its role, runtime and grants are CDK's own (read the CDK asset bucket, write the pages " +
    'bucket, invalidate the distribution); it never touches pipeline data.',
} as const;

/** The IAM5 findings cdk-nag's own rule reports for a policy resource. */
function wildcardFindings(resource: IConstruct | undefined): string[] {
  if (!resource || !CfnResource.isCfnResource(resource)) return [];
  const result = rules.iam.IAMNoWildcardPermissions(resource);
  return Array.isArray(result) ? result : [];
}

/** The finding of a grant on the secrets under the deployment's prefix, in this account and region, and no other. */
function isSecretPrefixFinding(finding: string, secretPrefix: string): boolean {
  const head = 'Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:';
  return finding === `${head}${secretPrefix}*`;
}

function ack(construct: IConstruct | undefined, id: string, reason: string): void {
  if (construct) Validations.of(construct).acknowledge({ id, reason });
}

/**
 * The console's accepted cdk-nag findings, each on the construct it concerns and computed from what was built, so
 * a setting that removes a finding (a web ACL, a domain, a VPC) removes its acknowledgement too.
 */
export function acknowledgeConsoleFindings(
  console: MeshConsole,
  options: {
    hasWebAcl: boolean;
    hasDomain: boolean;
    inVpc: boolean;
    reservedConcurrency: boolean;
    /** The deployment's secret prefix: the console may read the mailbox secrets under it. */
    secretPrefix: string;
  },
): void {
  const distribution = console.distribution.node.defaultChild;
  if (!options.hasWebAcl) ack(distribution, 'AwsSolutions-CFR2', CONSOLE_REASONS.noWebAcl);
  ack(distribution, 'AwsSolutions-CFR3', CONSOLE_REASONS.noDistributionLogs);
  if (!options.hasDomain) ack(distribution, 'AwsSolutions-CFR4', CONSOLE_REASONS.defaultCertificate);

  const pages = console.pagesBucket.node.defaultChild;
  ack(pages, 'HIPAA.Security-S3BucketReplicationEnabled', CONSOLE_REASONS.pagesReplication);
  ack(pages, 'HIPAA.Security-S3DefaultEncryptionKMS', CONSOLE_REASONS.pagesEncryption);

  const fn = console.function;
  ack(fn.fn.node.defaultChild, 'HIPAA.Security-LambdaDLQ', CONSOLE_REASONS.apiFunctionDlq);
  if (!options.inVpc)
    ack(fn.fn.node.defaultChild, 'HIPAA.Security-LambdaInsideVPC', CONSOLE_REASONS.outsideVpc);
  if (!options.reservedConcurrency)
    ack(fn.fn.node.defaultChild, 'HIPAA.Security-LambdaConcurrency', CONSOLE_REASONS.noReservedConcurrency);
  // Only S3 object prefixes and the deployment's secret prefix may be wildcards in the console's policy; any other
  // wildcard stays a failing finding.
  for (const finding of wildcardFindings(fn.policy.node.defaultChild)) {
    if (
      /^Resource::arn:<AWS::Partition>:s3:::[^*]+\/(outbound\/\*\/console\/\*|outbound\/\*|inbound\/\*)$/.test(
        finding,
      )
    )
      ack(fn.policy.node.defaultChild, `AwsSolutions-IAM5[${finding}]`, CONSOLE_REASONS.signedPrefixes);
    else if (isSecretPrefixFinding(finding, options.secretPrefix))
      ack(fn.policy.node.defaultChild, `AwsSolutions-IAM5[${finding}]`, CONSOLE_REASONS.secretPrefix);
  }

  // CDK's singleton BucketDeployment function, at the stack's root, and its role, made in the console's scope.
  const reason = CONSOLE_REASONS.cdkDeployment;
  const stack = Stack.of(console);
  for (const child of stack.node.children.filter((c) =>
    c.node.id.startsWith('Custom::CDKBucketDeployment'),
  )) {
    const lambda = child.node.tryFindChild('Resource');
    for (const id of [
      'AwsSolutions-L1',
      'HIPAA.Security-LambdaDLQ',
      'HIPAA.Security-LambdaInsideVPC',
      'HIPAA.Security-LambdaConcurrency',
    ])
      ack(lambda, id, reason);
  }
  const role = console.deploymentRole;
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.tryFindChild('Resource');
  ack(
    role.node.defaultChild,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason,
  );
  ack(policy, 'HIPAA.Security-IAMNoInlinePolicy', reason);
  for (const finding of wildcardFindings(policy)) ack(policy, `AwsSolutions-IAM5[${finding}]`, reason);
}
