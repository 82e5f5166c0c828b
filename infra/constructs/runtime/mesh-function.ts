import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionBaseSpec } from '../../../shared/wiring/pipeline.js';

/** The repository root: the wiring's function entries are relative to it, and esbuild resolves packages from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * ESM bundles have no `require`, but some bundled CommonJS dependencies (Powertools' Tracer among them) call it for
 * Node built-ins; without this they throw "Dynamic require of util is not supported" at run time.
 */
export const CREATE_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface MeshFunctionNetwork {
  readonly vpc: IVpc;
  readonly subnets?: SubnetSelection;
  readonly securityGroup: ISecurityGroup;
}

/** What MeshFunction reads of a function's spec: the wiring's FunctionSpec or DeployFunctionSpec. */
export type MeshFunctionSpec = Pick<
  FunctionBaseSpec,
  'entry' | 'description' | 'memoryMb' | 'timeoutSeconds'
>;

export interface MeshFunctionProps {
  readonly spec: MeshFunctionSpec;
  readonly role: IRole;
  readonly logGroup: ILogGroup;
  readonly environment: Readonly<Record<string, string>>;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** @default not in a VPC */
  readonly network?: MeshFunctionNetwork;
}

/**
 * A pipeline function with every default in one place: Node.js 24 on arm64, an ESM bundle built by the local
 * esbuild (no Docker), minified with names kept (error classes are matched and logged by name), source maps on
 * (stack traces point at the TypeScript), and the AWS SDK bundled at the versions the tests ran against rather
 * than whatever the runtime ships.
 */
export class MeshFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: MeshFunctionProps) {
    const { spec } = props;
    super(scope, id, {
      entry: join(PROJECT_ROOT, spec.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      description: spec.description,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: props.role,
      logGroup: props.logGroup,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network ? [props.network.securityGroup] : undefined,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: CREATE_REQUIRE_BANNER,
        minify: true,
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
        forceDockerBundling: false,
      },
    });
  }
}
