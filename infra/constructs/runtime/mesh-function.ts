import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  Runtime,
  type FunctionProps,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionBaseSpec } from '../../../shared/wiring/pipeline.js';

/** The repository root: the wiring's function entries are relative to it, and esbuild resolves packages from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Where the npm package keeps its prebuilt function bundles: `dist/bundles/` beside this module compiled into
 * `dist/infra/constructs/runtime/`. In a clone of the repository the same path is `bundles/` at the root, which the
 * build never writes, so the functions are bundled from source there.
 */
export const PREBUILT_BUNDLES = fileURLToPath(new URL('../../../bundles/', import.meta.url));

/** The directory of a function's prebuilt bundle (its `index.mjs` and source map), by its wiring entry. */
export function prebuiltBundleDir(entry: string, root: string = PREBUILT_BUNDLES): string {
  return join(root, dirname(entry));
}

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

/**
 * Read by the Lambda runtime and by Powertools themselves, not by the pipeline's code, so they are named here rather
 * than in the wiring: source-mapped stack traces, and the log level.
 */
export const RUNTIME_ENV = {
  nodeOptions: 'NODE_OPTIONS',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

/**
 * esbuild's settings for every function bundle, the same whether CDK bundles from source or the package build
 * prebuilds them (scripts/build-package.ts): one ESM file for Node.js 24, minified with names kept (error classes
 * are matched and logged by name), with a source map, and the AWS SDK inside at the versions the tests ran against.
 */
export const BUNDLE_SETTINGS = {
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  minify: true,
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
} as const;

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
  /** Powertools Logger's level. */
  readonly logLevel: string;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** @default not in a VPC */
  readonly network?: MeshFunctionNetwork;
}

/**
 * A pipeline function with every default in one place: Node.js 24 on arm64, an ESM bundle (BUNDLE_SETTINGS) and
 * source maps on (stack traces point at the TypeScript). Installed from the npm package, the function runs the
 * bundle prebuilt into the package, so the consumer's app needs neither the sources nor their lock file; in this
 * repository the local esbuild bundles it from source (no Docker).
 */
export function createMeshFunction(scope: Construct, id: string, props: MeshFunctionProps): LambdaFunction {
  const { spec } = props;
  const common: Omit<FunctionProps, 'code' | 'handler'> = {
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    description: spec.description,
    memorySize: spec.memoryMb,
    timeout: Duration.seconds(spec.timeoutSeconds),
    role: props.role,
    logGroup: props.logGroup,
    environment: {
      ...props.environment,
      [RUNTIME_ENV.nodeOptions]: '--enable-source-maps',
      [RUNTIME_ENV.logLevel]: props.logLevel,
    },
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    vpc: props.network?.vpc,
    vpcSubnets: props.network?.subnets,
    securityGroups: props.network ? [props.network.securityGroup] : undefined,
  };
  const prebuilt = prebuiltBundleDir(spec.entry);
  if (existsSync(join(prebuilt, 'index.mjs'))) {
    return new LambdaFunction(scope, id, {
      ...common,
      code: Code.fromAsset(prebuilt),
      handler: 'index.handler',
    });
  }
  return new NodejsFunction(scope, id, {
    ...common,
    entry: join(PROJECT_ROOT, spec.entry),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    bundling: {
      ...BUNDLE_SETTINGS,
      mainFields: [...BUNDLE_SETTINGS.mainFields],
      format: OutputFormat.ESM,
      bundleAwsSDK: true,
      forceDockerBundling: false,
    },
  });
}
