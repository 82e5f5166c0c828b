import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { DEPLOY_FUNCTIONS, FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { logicalId, synthesize } from './app.js';

// One real synth with esbuild, as `cdk synth` runs it: the assets it writes are what `cdk deploy` uploads.
const s = synthesize({ bundling: true });
const assembly = s.app.synth();
const template = s.functions.toJSON();
const built = [
  ...s.pipeline
    .allFunctions()
    .map((f) => ({ name: f.name as string, entry: FUNCTIONS[f.name].entry, fn: f.fn })),
  { name: 'registrySeed', entry: DEPLOY_FUNCTIONS.registrySeed.entry, fn: s.pipeline.registrySeed.fn },
];
const functions = built.map((f) => {
  const resource = template.Resources[logicalId(f.fn)];
  return {
    name: f.name,
    entry: f.entry,
    assetDir: join(assembly.directory, resource.Metadata['aws:asset:path'] as string),
    variables: resource.Properties.Environment.Variables as Record<string, unknown>,
  };
});
const entries = functions.map((f) => f.entry);

/** The project files a bundle was built from, from its source map (paths relative to where esbuild wrote it). */
function bundledSources(assetDir: string): string[] {
  const map = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
  return map.sources.filter((source) => !source.includes('node_modules/'));
}

/**
 * The function's environment from the template, each CloudFormation reference replaced by a plausible value of
 * its kind, as Lambda would provide after deployment.
 */
function plausibleEnvironment(variables: Record<string, unknown>): Record<string, string> {
  const dummy = (name: string) =>
    name.endsWith('_QUEUE_URL') ? 'https://sqs.eu-west-2.amazonaws.com/123456789012/queue' : 'placeholder';
  const render = (name: string, value: unknown): string => {
    if (typeof value === 'string') return value;
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map((part) => (typeof part === 'string' ? part : dummy(name))).join(join[0]);
    return dummy(name);
  };
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, render(name, value)]));
}

describe('function bundles', () => {
  test('are built from the entry points the wiring names, one bundle per entry', () => {
    assert.deepEqual(
      [...entries].sort(),
      [...Object.values(FUNCTIONS), ...Object.values(DEPLOY_FUNCTIONS)].map((spec) => spec.entry).sort(),
    );
    for (const f of functions) {
      const sources = bundledSources(f.assetDir);
      assert.deepEqual(
        entries.filter((entry) => sources.some((source) => source.endsWith(`/${entry}`))),
        [f.entry],
        `${f.name} bundles its own entry and no other`,
      );
    }
    assert.equal(new Set(functions.map((f) => f.assetDir)).size, functions.length);
  });

  test('are self-contained ES modules with the createRequire banner and a source map', () => {
    for (const f of functions) {
      const code = readFileSync(join(f.assetDir, 'index.mjs'), 'utf8');
      assert.ok(
        code.startsWith(
          "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        ),
        f.name,
      );
      assert.match(code, /\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      assert.ok(!existsSync(join(f.assetDir, 'node_modules')), 'nothing left to install');
    }
  });

  test('each loads under Node with its function environment and exports a handler function', () => {
    for (const f of functions) {
      // A child process per bundle, run from the asset directory: no project node_modules to fall back on.
      const result = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          'const m = await import(process.argv[1]); console.log(typeof m.handler);',
          pathToFileURL(join(f.assetDir, 'index.mjs')).href,
        ],
        {
          cwd: f.assetDir,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-2',
            AWS_LAMBDA_FUNCTION_NAME: `${f.name}-test`,
            ...plausibleEnvironment(f.variables),
          },
          timeout: 30_000,
        },
      );
      assert.equal(result.status, 0, `${f.name} failed to load:\n${result.stderr}`);
      assert.equal(result.stdout.trim().split('\n').at(-1), 'function', `${f.name} exports handler`);
    }
  });
});
