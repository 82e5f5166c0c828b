import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  GeoRestriction,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClientIdentityProvider,
} from 'aws-cdk-lib/aws-cognito';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { mailboxGroup, OPERATORS_GROUP } from '../../../shared/console/identity.js';
import { UPLOAD_CORS_HEADERS } from '../../../shared/console/s3-url-signer.js';
import {
  CONSOLE_FUNCTIONS,
  functionEnvironment,
  type DeploymentNames,
} from '../../../shared/wiring/pipeline.js';
import {
  functionScope,
  leastPrivilegeFunction,
  type FunctionDefaults,
  type FunctionParts,
} from '../runtime/least-privilege-function.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';
import { acknowledgeConsoleFindings } from './nag-acknowledgements.js';
import { consoleStatements } from './permissions.js';
import type { MeshConsoleProps } from './props.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * nhsuk-frontend's compiled assets, found through module resolution: in this repository and in an app that installed
 * the package, where npm may hoist the dependency out of the package's own folder.
 */
const NHSUK_DIST = join(
  dirname(createRequire(import.meta.url).resolve('nhsuk-frontend/package.json')),
  'dist',
  'nhsuk',
);

export interface MeshConsoleConstructProps extends MeshConsoleProps {
  readonly storage: MeshPipelineStorage;
  /** The fleet's deployment names: the console function's environment is built from them (functionEnvironment). */
  readonly deployment: DeploymentNames;
  readonly defaults: FunctionDefaults;
  /** Mailboxes known at deploy: each gets its `mailbox:{ID}` group. Others' groups are added with the mailbox. */
  readonly mailboxIds?: readonly string[];
}

/**
 * The console in AWS: a Cognito user pool (MFA required, no self sign-up) with its hosted sign-in, an HTTP API whose
 * Cognito JWT authorizer guards the console function, and the pages in a private bucket behind CloudFront (origin
 * access control), which also fronts the API under /api/* so pages and API share one origin. The function reads
 * state and signs S3 URLs; files go between the browser and S3 directly.
 */
export class MeshConsole extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly api: HttpApi;
  readonly distribution: Distribution;
  readonly pagesBucket: Bucket;
  readonly function: FunctionParts;
  /**
   * The role of CDK's BucketDeployment function, which copies the pages at deploy. CDK makes that function once per
   * stack at the stack's root; its role is made here, so what is applied to the pipeline's scope (the permissions
   * boundary, tags) reaches it as it reaches every other role.
   */
  readonly deploymentRole: Role;
  /** The console's address. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: MeshConsoleConstructProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const sessionMinutes = props.sessionMinutes ?? 60;
    const threatProtection = props.threatProtection ?? true;

    this.userPool = new UserPool(this, 'Users', {
      userPoolName: `${stack.stackName}-console`,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: threatProtection ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: threatProtection ? StandardThreatProtectionMode.FULL_FUNCTION : undefined,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const groups = [
      {
        name: OPERATORS_GROUP,
        description: 'Console operators: stalled work, redrive, pause and resume, audit trail',
      },
      ...(props.mailboxIds ?? []).map((m) => ({
        name: mailboxGroup(m),
        description: `Send and receive as ${m}`,
      })),
    ];
    groups.forEach(
      (g, i) =>
        new CfnUserPoolGroup(this, `Group${i}`, {
          userPoolId: this.userPool.userPoolId,
          groupName: g.name,
          description: g.description,
        }),
    );
    const domain = this.userPool.addDomain('SignIn', {
      cognitoDomain: { domainPrefix: props.signInDomainPrefix },
    });

    this.pagesBucket = new Bucket(this, 'Pages', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: props.storage.accessLogsBucket,
      serverAccessLogsPrefix: 'console-pages/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const logGroup = new LogGroup(this, 'ApiAccessLogs', {
      retention: props.defaults.logRetention,
      encryptionKey: props.defaults.key,
      removalPolicy: props.defaults.logRemovalPolicy,
    });
    this.api = new HttpApi(this, 'Api', { description: 'MESH console API (Cognito JWT on every route)' });

    const pagesOrigin = S3BucketOrigin.withOriginAccessControl(this.pagesBucket);
    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          override: true,
          contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
            `connect-src 'self' https://*.amazonaws.com https://*.amazoncognito.com; frame-ancestors 'none'; ` +
            "form-action 'self'; base-uri 'self'",
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'MESH console: pages and /api/*',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: pagesOrigin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new HttpOrigin(`${this.api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
      geoRestriction: GeoRestriction.allowlist(...(props.allowedCountries ?? ['GB'])),
      webAclId: props.webAclArn,
      domainNames: props.domain ? [...props.domain.names] : undefined,
      certificate: props.domain?.certificate,
      // Only with a certificate of the deployment's own: CloudFront's default certificate has a fixed policy.
      minimumProtocolVersion: props.domain ? SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
    });
    const origin = props.domain
      ? `https://${props.domain.names[0]}`
      : `https://${this.distribution.distributionDomainName}`;
    this.url = origin;

    this.client = this.userPool.addClient('Pages', {
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.minutes(sessionMinutes),
      accessTokenValidity: Duration.minutes(sessionMinutes),
      refreshTokenValidity: Duration.minutes(Math.max(60, sessionMinutes)),
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${origin}/callback.html`],
        logoutUrls: [`${origin}/index.html?signed-out=1`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
    });
    const issuer = `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;

    const spec = CONSOLE_FUNCTIONS.consoleApi;
    this.function = leastPrivilegeFunction(functionScope(this, 'consoleApi'), props.defaults, {
      spec,
      statements: (fnLogs) => consoleStatements(stack, props.storage, fnLogs),
      environment: functionEnvironment('consoleApi', {
        ...props.deployment,
        console: { issuer, audience: this.client.userPoolClientId },
      }),
      reservedConcurrency: 10,
    });
    this.api.addRoutes({
      path: '/api/{proxy+}',
      methods: [HttpMethod.GET, HttpMethod.POST],
      integration: new HttpLambdaIntegration('Function', this.function.fn),
      authorizer: new HttpJwtAuthorizer('Cognito', issuer, { jwtAudience: [this.client.userPoolClientId] }),
    });
    const stage = this.api.defaultStage!.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: logGroup.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        method: '$context.httpMethod',
        path: '$context.path',
        status: '$context.status',
        user: '$context.authorizer.claims.sub',
        ip: '$context.identity.sourceIp',
        latencyMs: '$context.responseLatency',
      }),
    };
    stage.defaultRouteSettings = { throttlingBurstLimit: 50, throttlingRateLimit: 20 };

    // The browser PUTs uploads straight to the outbound bucket: its CORS must name the console's origin.
    const outbound = props.storage.outboundBucket;
    const sameStack = outbound instanceof Bucket && Stack.of(outbound) === stack;
    const origins = sameStack ? [origin] : (props.domain?.names.map((n) => `https://${n}`) ?? []);
    if (outbound instanceof Bucket && origins.length > 0) {
      outbound.addCorsRule({
        allowedOrigins: origins,
        allowedMethods: [HttpMethods.PUT],
        allowedHeaders: [...UPLOAD_CORS_HEADERS],
        exposedHeaders: ['ETag'],
        maxAge: 600,
      });
    }

    const config = {
      authorizeUrl: `${domain.baseUrl()}/oauth2/authorize`,
      tokenUrl: `${domain.baseUrl()}/oauth2/token`,
      clientId: this.client.userPoolClientId,
      apiBase: '/api',
    };
    this.deploymentRole = new Role(this, 'DeployPagesRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'CDK BucketDeployment: copies the console pages into their bucket at deploy',
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    const deploymentLogs = new LogGroup(this, 'DeployPagesLogs', {
      retention: props.defaults.logRetention,
      encryptionKey: props.defaults.key,
      removalPolicy: props.defaults.logRemovalPolicy,
    });
    // Both deployments share CDK's one handler (same memory), and so this one role and log group.
    new BucketDeployment(this, 'DeployPages', {
      role: this.deploymentRole,
      logGroup: deploymentLogs,
      destinationBucket: this.pagesBucket,
      sources: [Source.asset(`${ROOT}console`), Source.jsonData('config.json', config)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    new BucketDeployment(this, 'DeployDesignSystem', {
      role: this.deploymentRole,
      logGroup: deploymentLogs,
      destinationBucket: this.pagesBucket,
      destinationKeyPrefix: 'assets/nhsuk/',
      sources: [Source.asset(NHSUK_DIST)],
      prune: false,
      memoryLimit: 256,
    });

    acknowledgeConsoleFindings(this, {
      hasWebAcl: !!props.webAclArn,
      hasDomain: !!props.domain,
      inVpc: !!props.defaults.network,
      reservedConcurrency: props.defaults.reserveConcurrency,
      secretPrefix: props.deployment.secretPrefix,
    });
  }
}
