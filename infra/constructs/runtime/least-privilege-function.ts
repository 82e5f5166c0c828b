import type { RemovalPolicy } from 'aws-cdk-lib';
import { ManagedPolicy, Role, ServicePrincipal, type PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { createMeshFunction, type MeshFunctionNetwork, type MeshFunctionSpec } from './mesh-function.js';

/** What every function of the pipeline is built with, whatever it does. */
export interface FunctionDefaults {
  readonly key: IKey;
  readonly reserveConcurrency: boolean;
  readonly logRetention: RetentionDays;
  /** Logs are the audit trail of what was sent and received: by default they outlive the functions. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** Powertools Logger's level for every function. */
  readonly logLevel: string;
  readonly network?: MeshFunctionNetwork;
}

/** A function with the role, policy and log group that belong to it alone. */
export interface FunctionParts {
  readonly fn: LambdaFunction;
  readonly role: Role;
  readonly policy: ManagedPolicy;
  readonly logGroup: LogGroup;
}

export interface LeastPrivilegeFunctionProps {
  readonly spec: MeshFunctionSpec & { readonly serviceName: string };
  /** Everything the function may do, given its own log group. */
  readonly statements: (logGroup: LogGroup) => PolicyStatement[];
  readonly environment: Readonly<Record<string, string>>;
  /** Reserved when the defaults say so. */
  readonly reservedConcurrency: number;
}

/**
 * Builds one function under `scope`: its own encrypted log group, its own role, and one customer-managed policy
 * holding exactly `statements` (nothing from AWS's broad managed policies). The function waits for its policy, so it
 * never runs, nor is its trigger created, without its permissions.
 */
export function leastPrivilegeFunction(
  scope: Construct,
  defaults: FunctionDefaults,
  props: LeastPrivilegeFunctionProps,
): FunctionParts {
  const { spec } = props;
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: defaults.logRetention,
    encryptionKey: defaults.key,
    removalPolicy: defaults.logRemovalPolicy,
  });
  const role = new Role(scope, 'Role', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `${spec.serviceName} function of the NHS MESH pipeline (every mailbox)`,
  });
  const policy = new ManagedPolicy(scope, 'Policy', {
    description: `Least privilege of the ${spec.serviceName} function of the NHS MESH pipeline`,
    statements: props.statements(logGroup),
    roles: [role],
  });
  const fn = createMeshFunction(scope, 'Function', {
    spec,
    role,
    logGroup,
    environment: props.environment,
    logLevel: defaults.logLevel,
    reservedConcurrentExecutions: defaults.reserveConcurrency ? props.reservedConcurrency : undefined,
    network: defaults.network,
  });
  fn.node.addDependency(policy);
  return { fn, role, policy, logGroup };
}

/** A construct id from a camelCase name: `outboundSend` becomes `OutboundSend`. */
export function pascal(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

/** An empty scope to build one function in. */
export function functionScope(parent: Construct, name: string): Construct {
  return new Construct(parent, pascal(name));
}
