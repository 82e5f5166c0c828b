import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CONSOLE_FUNCTIONS, DEPLOY_FUNCTIONS, FUNCTIONS } from '../../shared/wiring/pipeline.js';

/**
 * The npm package as a consumer gets it: `npm pack` (which builds it), the tarball installed into a copy of
 * examples/consumer-app in a temporary folder (from the npm cache `npm ci` filled), then that app type-checked
 * against the package's declarations and synthesized with cdk-nag, as `cdk synth` would run it.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'consumer-app');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  private?: boolean;
  files: string[];
};
const FUNCTION_ENTRIES = [...Object.values(FUNCTIONS), ...Object.values(DEPLOY_FUNCTIONS)].map(
  (f) => f.entry,
);
/** npm's own settings from `npm test` must not leak into the nested npm (its lifecycle, its prefix). */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
);

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

interface Template {
  readonly Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

describe('the npm package', () => {
  let dir: string;
  let tarball: string;
  let packed: string[];
  let app: string;
  let synth: { stdout: string; stderr: string };
  let typecheck: { stdout: string; stderr: string };

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'mesh-package-'));
      await run('npm', ['pack', '--pack-destination', dir, '--no-fund'], {
        cwd: ROOT,
        env: cleanEnv,
        maxBuffer: 16 * 1024 * 1024,
      });
      tarball = join(dir, `${PACKAGE.name}-${PACKAGE.version}.tgz`);
      packed = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);

      app = join(dir, 'app');
      cpSync(EXAMPLE, app, { recursive: true });
      // From the cache `npm ci` filled; the example's dev tools (cdk CLI, typescript) are not needed to synthesize.
      await run(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', '--ignore-scripts', tarball],
        { cwd: app, env: cleanEnv, maxBuffer: 16 * 1024 * 1024 },
      );
      // As `cdk synth` runs the app (cdk.json): with CDK_OUTDIR set, the App synthesizes itself on exit.
      [synth, typecheck] = await Promise.all([
        run(process.execPath, ['--import', 'tsx', 'app.ts'], {
          cwd: app,
          env: { ...cleanEnv, CDK_OUTDIR: join(app, 'cdk.out'), CDK_DISABLE_VERSION_CHECK: 'true' },
          maxBuffer: 16 * 1024 * 1024,
        }),
        run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
          cwd: app,
          env: cleanEnv,
        }),
      ]);
    },
    { timeout: 240_000 },
  );
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const template = (stack: string): Template =>
    JSON.parse(readFileSync(join(app, 'cdk.out', `${stack}.template.json`), 'utf8')) as Template;

  test('is public, semver 0.x, and licensed as its LICENSE file says', () => {
    assert.equal(PACKAGE.private, false);
    assert.match(PACKAGE.version, /^0\.\d+\.\d+$/);
    assert.equal(PACKAGE.license, 'MIT');
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/);
    assert.match(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'), new RegExp(`## ${PACKAGE.version}\\b`));
  });

  test('ships the compiled entry points with declarations, the schemas, the bundles, and no tests or sources', () => {
    for (const file of [
      'package/package.json',
      'package/LICENSE',
      'package/CHANGELOG.md',
      'package/README.md',
      'package/cli/bin.mjs',
      'package/dist/cli/main.mjs',
      'package/dist/infra/index.js',
      'package/dist/infra/index.d.ts',
      'package/dist/shared/mesh/index.d.ts',
      'package/dist/shared/events/index.d.ts',
      'package/schemas/inbound.schema.json',
      'package/schemas/outbound-status.schema.json',
      'package/schemas/inbound.cloudevent.schema.json',
      'package/schemas/outbound-status.cloudevent.schema.json',
      // The console's pages and function, which its construct deploys when the console is turned on.
      'package/dist/console/index.html',
      ...[...FUNCTION_ENTRIES, ...Object.values(CONSOLE_FUNCTIONS).map((f) => f.entry)].map(
        (entry) => `package/dist/bundles/${entry.replace(/\/index\.ts$/, '')}/index.mjs`,
      ),
    ]) {
      assert.ok(packed.includes(file), `${file} is in the package`);
    }
    const unwanted = packed.filter(
      (file) =>
        /(^|\/)test\//.test(file) ||
        /\.test\./.test(file) ||
        (file.endsWith('.ts') && !file.endsWith('.d.ts')),
    );
    assert.deepEqual(unwanted, []);
  });

  test("type-checks the example app against the package's declarations", () => {
    assert.equal(typecheck.stderr.trim(), '');
  });

  test('synthesizes the example app from the tarball, cdk-nag included, with no finding', () => {
    const report = JSON.parse(readFileSync(join(app, 'cdk.out', 'validation-report.json'), 'utf8')) as {
      pluginReports: { conclusion: string }[];
    };
    assert.deepEqual(
      report.pluginReports.filter((r) => r.conclusion !== 'success'),
      [],
      synth.stderr,
    );
    const data = Object.values(template('MeshData').Resources).map((r) => r.Type);
    assert.equal(data.filter((type) => type === 'AWS::S3::Bucket').length, 3);
    assert.equal(data.filter((type) => type === 'AWS::KMS::Key').length, 1);
  });

  test('deploys every function from the bundle prebuilt into the package, not from sources', () => {
    const functions = Object.values(template('MeshFunctions').Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    assert.equal(functions.length, FUNCTION_ENTRIES.length);
    const prebuilt = new Set(
      FUNCTION_ENTRIES.map((entry) =>
        sha256(
          join(
            app,
            'node_modules',
            PACKAGE.name,
            'dist/bundles',
            entry.replace(/\/index\.ts$/, ''),
            'index.mjs',
          ),
        ),
      ),
    );
    for (const fn of functions) {
      assert.equal(fn.Properties.Handler, 'index.handler');
      assert.equal(fn.Properties.Runtime, 'nodejs24.x');
      // The default synthesizer names each asset's directory by the hash its S3 key is made of.
      const key = String((fn.Properties.Code as { S3Key?: unknown }).S3Key);
      const asset = join(app, 'cdk.out', `asset.${key.replace(/\.zip$/, '')}`);
      assert.deepEqual(readdirSync(asset).sort(), ['index.mjs', 'index.mjs.map']);
      assert.ok(prebuilt.has(sha256(join(asset, 'index.mjs'))), `${asset} is a prebuilt bundle`);
    }
  });

  test('exports the MESH client, the event schemas and their JSON Schema files', async () => {
    const script = `
      const mesh = await import('${PACKAGE.name}/mesh');
      const events = await import('${PACKAGE.name}/events');
      const schema = await import('${PACKAGE.name}/schemas/inbound.schema.json', { with: { type: 'json' } });
      console.log(JSON.stringify({
        client: typeof mesh.MeshClient,
        contracts: Object.keys(events.EVENT_CONTRACTS),
        sameSchema: JSON.stringify(events.eventJsonSchemas()['inbound.schema.json']) === JSON.stringify(schema.default),
      }));`;
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      cwd: app,
      env: cleanEnv,
    });
    assert.deepEqual(JSON.parse(stdout), {
      client: 'function',
      contracts: ['nhs-mesh-pipeline.inbound', 'nhs-mesh-pipeline.outbound-status'],
      sameSchema: true,
    });
  });

  test('runs the installed mesh command from its prebuilt bundle', async () => {
    const { stdout } = await run(join(app, 'node_modules', '.bin', 'mesh'), ['--version'], {
      cwd: app,
      env: cleanEnv,
    });
    assert.equal(stdout.trim(), PACKAGE.version);
  });
});

describe('the README', () => {
  test('"Use it in your own CDK app" is the example app, line for line', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.split('\n## Use it in your own CDK app\n')[1]?.split('\n## ')[0] ?? '';
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.equal(code, readFileSync(join(EXAMPLE, 'app.ts'), 'utf8'));
  });
});
