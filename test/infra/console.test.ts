import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import { MeshPipelineConfigError } from '../../infra/constructs/validate.js';
import { acknowledgeMeshPipeline } from '../../infra/nag-acknowledgements.js';
import { applyNagChecks, nagPacks } from '../../infra/nag.js';

/** A pipeline with its console in one stack, under both cdk-nag packs, as an app using the construct builds it. */
function consoleApp() {
  const app = new App({
    context: { '@aws-cdk/core:appMode': 'inmemory', 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new Stack(app, 'WithConsole', { env: { account: '111111111111', region: 'eu-west-2' } });
  const pipeline = new MeshPipeline(stack, 'Mesh', {
    meshEnvironment: 'integration',
    secretPrefix: 'nhs-mesh-pipeline/test/',
    mailboxes: [{ id: 'X26ABC1' }, { id: 'X26ABC2' }],
    console: { signInDomainPrefix: 'mesh-console-test' },
  });
  acknowledgeMeshPipeline(pipeline);
  applyNagChecks(app);
  return { app, stack, pipeline };
}

describe('the console in AWS', () => {
  const built = consoleApp();
  const findings = (() => {
    built.app.synth();
    return nagPacks(built.app).flatMap((pack) =>
      pack.validateScope(built.app).violations.map((v) => ({
        rule: v.ruleName,
        resources: v.violatingResources.map((r) => r.constructPath),
      })),
    );
  })();
  const template = Template.fromStack(built.stack);

  test('passes cdk-nag with no unacknowledged finding', () => {
    assert.deepEqual(findings, []);
  });

  test('users sign in to a pool with MFA required, no self sign-up and threat protection', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (g) => (g as { Properties: { GroupName: string } }).Properties.GroupName,
    );
    assert.deepEqual(groups.sort(), ['mailbox:X26ABC1', 'mailbox:X26ABC2', 'operators']);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      PreventUserExistenceErrors: 'ENABLED',
      IdTokenValidity: 60,
    });
  });

  test('every API route needs a Cognito JWT for the console client', () => {
    const authorizers = Object.values(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    assert.equal(authorizers.length, 1);
    const authorizer = (authorizers[0] as { Properties: Record<string, unknown> }).Properties;
    assert.equal(authorizer.AuthorizerType, 'JWT');
    assert.match(JSON.stringify(authorizer.JwtConfiguration), /cognito-idp/);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    assert.deepEqual(routes.map((r) => r.RouteKey).sort(), ['GET /api/{proxy+}', 'POST /api/{proxy+}']);
    for (const route of routes) assert.equal(route.AuthorizationType, 'JWT');
  });

  test('the pages are in a private bucket that only CloudFront reads, through origin access control', () => {
    const console = built.pipeline.console!;
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const policy = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    assert.match(policy, /cloudfront\.amazonaws\.com/);
    assert.ok(console.pagesBucket);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultRootObject: 'index.html',
        Restrictions: { GeoRestriction: { RestrictionType: 'whitelist', Locations: ['GB'] } },
      },
    });
  });

  test("the console function reads state, signs URLs and reads only the deployment's mailbox secrets", () => {
    const fn = built.pipeline.console!.function;
    const env = (
      template.toJSON().Resources[built.stack.getLogicalId(fn.fn.node.defaultChild as never)] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }
    ).Properties.Environment.Variables;
    assert.ok(env.CONSOLE_ISSUER && env.CONSOLE_AUDIENCE);
    // The recipient lookup asks MESH as one of the user's mailboxes, with that mailbox's secret.
    assert.equal(env.MESH_URL, 'integration');
    assert.equal(env.SECRET_PREFIX, 'nhs-mesh-pipeline/test/');
    const statements = (
      built.stack.resolve(fn.policy.document.toJSON()) as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      }
    ).Statement;
    const actions = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
    const secrets = statements.filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    assert.equal(secrets.length, 1);
    assert.deepEqual(actions(secrets[0]!), ['secretsmanager:GetSecretValue']);
    assert.match(JSON.stringify(secrets[0]!.Resource), /:secret:nhs-mesh-pipeline\/test\/\*"/);
    // Listings Query the index; only the operators' overview Scans, and only the table itself.
    const scans = statements.filter((s) => actions(s).includes('dynamodb:Scan'));
    assert.equal(scans.length, 1);
    assert.doesNotMatch(JSON.stringify(scans[0]!.Resource), /index/);
    const policy = JSON.stringify(statements);
    assert.match(policy, /outbound\/\*\/console\/\*/);
    assert.doesNotMatch(policy, /s3:DeleteObject|s3:\*|dynamodb:DeleteItem|dynamodb:\*|secretsmanager:\*/);
    assert.doesNotMatch(policy, /secretsmanager:(PutSecretValue|CreateSecret|UpdateSecret|DescribeSecret)/);
  });

  test("the outbound bucket lets only the console's origin PUT from a browser, with the upload's signed headers", () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')).filter(
      (b) => (b as { Properties: Record<string, unknown> }).Properties.CorsConfiguration,
    );
    assert.equal(buckets.length, 1);
    const cors = JSON.stringify(
      (buckets[0] as { Properties: Record<string, unknown> }).Properties.CorsConfiguration,
    );
    assert.match(cors, /"AllowedMethods":\["PUT"\]/);
    assert.match(cors, /DomainName/);
    // The upload signs If-None-Match: a browser could not send it (nor so store the file once) were it not allowed.
    assert.match(cors, /"AllowedHeaders":\["content-type","if-none-match","x-amz-meta-\*"\]/);
  });

  test('without `console` nothing of it is built', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'NoConsole', { env: { account: '111111111111', region: 'eu-west-2' } });
    const pipeline = new MeshPipeline(stack, 'Mesh', { meshEnvironment: 'integration', secretPrefix: 'p/' });
    assert.equal(pipeline.console, undefined);
    const plain = Template.fromStack(stack);
    plain.resourceCountIs('AWS::Cognito::UserPool', 0);
    plain.resourceCountIs('AWS::CloudFront::Distribution', 0);
  });
});

describe('console props', () => {
  /** The problems synthesis lists for a pipeline with these console props and a bad secret prefix. */
  function problemsOf(consoleProps: Record<string, unknown>): readonly string[] {
    const stack = new Stack(new App(), 'Checked', { env: { account: '111111111111', region: 'eu-west-2' } });
    try {
      new MeshPipeline(stack, 'Mesh', {
        meshEnvironment: 'integration',
        secretPrefix: 'no-slash',
        console: consoleProps as never,
      });
    } catch (error) {
      assert.ok(error instanceof MeshPipelineConfigError, String(error));
      return error.problems;
    }
    return assert.fail('synthesis went ahead');
  }

  test('a session length outside 5 to 60 minutes and a malformed sign-in prefix are listed with the others', () => {
    const problems = problemsOf({ signInDomainPrefix: 'Acme_Console-', sessionMinutes: 90 });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /^secretPrefix "no-slash"/);
    assert.match(problems[1]!, /^console\.signInDomainPrefix "Acme_Console-" is not a Cognito domain prefix/);
    assert.match(problems[2]!, /^console\.sessionMinutes 90 must be a whole number from 5 to 60/);
  });

  test('refuses a prefix with a word Cognito reserves, a missing prefix and a session of 4 or 2.5 minutes', () => {
    assert.match(problemsOf({ signInDomainPrefix: 'my-cognito-login' })[1]!, /contains "cognito"/);
    assert.match(problemsOf({})[1]!, /^console\.signInDomainPrefix is missing/);
    assert.match(problemsOf({ signInDomainPrefix: 'acme', sessionMinutes: 4 })[1]!, /sessionMinutes 4/);
    assert.match(problemsOf({ signInDomainPrefix: 'acme', sessionMinutes: 2.5 })[1]!, /sessionMinutes 2\.5/);
    // The bounds themselves are accepted: only the secret prefix is wrong.
    assert.equal(problemsOf({ signInDomainPrefix: 'acme-mesh', sessionMinutes: 5 }).length, 1);
    assert.equal(problemsOf({ signInDomainPrefix: 'acme-mesh', sessionMinutes: 60 }).length, 1);
  });
});
