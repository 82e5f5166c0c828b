import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { createTrackerFunction } from '../../../functions/delivery-tracker/container.js';
import { createRelayFunction } from '../../../functions/event-relay/container.js';
import { createHealthFunction } from '../../../functions/health/container.js';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { createSeedFunction } from '../../../functions/registry-seed/container.js';
import { ConfigurationError, EnvReader } from '../../../shared/config/env.js';
import { silentLog } from '../../../shared/observability/ports.js';
import {
  DEPLOY_FUNCTIONS,
  ENV,
  FUNCTIONS,
  QUEUES,
  TUNING,
  functionEnvironment,
  type DeployFunctionName,
  type DeploymentNames,
  type FunctionName,
  type Setting,
} from '../../../shared/wiring/pipeline.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SETTINGS: [string, Setting][] = Object.entries(TUNING);
const TUNING_NAMES = new Set(SETTINGS.map(([, s]) => s.env));
const ALL_NAMES = new Set<string>(Object.values(ENV));

type AnyName = FunctionName | DeployFunctionName;
const quiet = { log: silentLog, metrics: { add: () => undefined } };
/** Each function's composition root, as Lambda calls it (index.ts passes process.env). */
const BUILD: Readonly<Record<AnyName, (env: NodeJS.ProcessEnv) => { close(): Promise<void> }>> = {
  outboundSend: (env) => createSendFunction(env, quiet),
  inboundPoll: (env) => createPollFunction(env, quiet),
  inboundDownload: (env) => createDownloadFunction(env, quiet),
  deliveryTracker: (env) => createTrackerFunction(env, quiet),
  health: (env) => createHealthFunction(env, quiet),
  eventRelay: (env) => createRelayFunction(env, quiet),
  registrySeed: (env) => createSeedFunction(env, quiet),
};
const NAMES = [...Object.keys(FUNCTIONS), ...Object.keys(DEPLOY_FUNCTIONS)] as AnyName[];

const deployment: DeploymentNames = {
  meshUrl: 'https://localhost:8700',
  tableName: 'mesh',
  outboundBucket: 'outbound',
  inboundBucket: 'inbound',
  secretPrefix: 'mesh/',
  queueUrl: (queue) => `https://sqs.eu-west-2.amazonaws.com/000000000000/${queue}`,
  // Every optional part of a deployment given, so that every variable a function may read is one it can be given.
  events: { source: 'nhs-mesh-pipeline/test', eventBus: 'mesh-events' },
};

/** Builds the function with exactly its wiring environment and returns every variable its composition root read. */
async function variablesRead(name: AnyName): Promise<Set<string>> {
  const read = new Set<string>();
  const env = new Proxy(functionEnvironment(name, deployment), {
    get: (target, key) => {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
  });
  await BUILD[name](env).close();
  return read;
}

/** Every TypeScript source file under a project folder. */
function sources(folder: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return walk(path);
      return path.endsWith('.ts') ? [path] : [];
    });
  return walk(join(ROOT, folder));
}

describe('the wiring names every environment variable once', () => {
  test('each name is a distinct upper-case variable name', () => {
    const names = Object.values(ENV);
    assert.equal(new Set(names).size, names.length, 'two keys of ENV name the same variable');
    for (const name of names) assert.match(name, /^[A-Z][A-Z0-9_]*$/);
    for (const [key, setting] of SETTINGS) assert.equal(ENV[key as keyof typeof ENV], setting.env, key);
  });

  test('each setting has a default inside its own bounds, and is read by some function', () => {
    for (const [key, s] of SETTINGS) {
      assert.ok(s.readBy.length > 0, key);
      assert.equal(new Set(s.readBy).size, s.readBy.length, key);
      if (s.kind === 'boolean') continue;
      const min = s.min ?? 0;
      const max = s.max ?? Number.MAX_SAFE_INTEGER;
      assert.ok(min <= max, key);
      const defaults =
        s.kind === 'integerList'
          ? [...s.default]
          : [s.default, ...Object.values(s.kind === 'integer' ? (s.defaultFor ?? {}) : {})];
      for (const value of defaults) {
        assert.ok(value >= min && value <= max, `${key}: default ${value} outside ${min} to ${max}`);
        if (s.kind !== 'number') assert.ok(Number.isSafeInteger(value), `${key}: default ${value}`);
      }
      if (s.kind === 'integer') {
        for (const fn of Object.keys(s.defaultFor ?? {}))
          assert.ok(s.readBy.includes(fn as FunctionName), key);
      }
    }
  });

  test("a setting's default can be the function's own", () => {
    assert.equal(new EnvReader({}, 'health').setting(TUNING.secretCacheSeconds), 60);
    assert.equal(new EnvReader({}, 'outboundSend').setting(TUNING.secretCacheSeconds), 300);
    assert.equal(
      new EnvReader({}, 'inboundDownload').setting(TUNING.maxReceiveCount),
      QUEUES.download.maxReceiveCount,
    );
    assert.equal(
      new EnvReader({}, 'outboundSend').setting(TUNING.maxReceiveCount),
      QUEUES.send.maxReceiveCount,
    );
    assert.equal(
      new EnvReader({ [ENV.secretCacheSeconds]: '7' }, 'health').setting(TUNING.secretCacheSeconds),
      7,
    );
  });

  test('a setting out of its bounds fails the cold start, named', () => {
    const read = new EnvReader({
      [ENV.compressionLevel]: '10',
      [ENV.compress]: 'maybe',
      [ENV.recoveryRecheckSeconds]: '30,901',
      [ENV.pollIntervalScale]: '0',
    });
    read.setting(TUNING.compressionLevel);
    read.setting(TUNING.compress);
    read.setting(TUNING.recoveryRecheckSeconds);
    read.setting(TUNING.pollIntervalScale);
    assert.throws(
      () => read.done(),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems.length === 4 &&
        [ENV.compressionLevel, ENV.compress, ENV.recoveryRecheckSeconds, ENV.pollIntervalScale].every(
          (name) => error.problems.some((p) => p.startsWith(`${name} must be`)),
        ),
    );
  });
});

describe('each function reads what the wiring says, and only that', () => {
  for (const name of NAMES) {
    test(`${name}: builds from functionEnvironment alone and reads only declared names`, async () => {
      const given = new Set(Object.keys(functionEnvironment(name, deployment)));
      const read = await variablesRead(name);
      for (const variable of read)
        assert.ok(ALL_NAMES.has(variable), `${name} reads ${variable}, not in the wiring`);
      for (const variable of read) {
        if (!TUNING_NAMES.has(variable))
          assert.ok(given.has(variable), `${name} reads ${variable}, not given it`);
      }
      const declared = SETTINGS.filter(([, s]) => (s.readBy as readonly AnyName[]).includes(name)).map(
        ([, s]) => s.env,
      );
      assert.deepEqual(
        [...read].filter((variable) => TUNING_NAMES.has(variable)).sort(),
        declared.sort(),
        `${name}: the settings it reads against TUNING's readBy`,
      );
    });
  }
});

describe('deployed code reads settings only through the wiring', () => {
  const files = [...sources('functions'), ...sources('shared')].filter(
    (file) => !file.includes('/shared/wiring/') && !file.endsWith('/shared/config/env.ts'),
  );
  const problems = (pattern: RegExp, what: string) =>
    files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          pattern.test(line) ? [`${relative(ROOT, file)}:${i + 1}: ${what}: ${line.trim()}`] : [],
        ),
    );

  test('no setting is read by a name of its own, only as read.setting(TUNING.x)', () => {
    assert.deepEqual(problems(/\bread\.(integer|number|boolean|integerList)\(/, 'raw setting read'), []);
    assert.deepEqual(problems(/\bread\.setting\((?!TUNING\.)/, 'setting not from TUNING'), []);
  });

  test("the wiring's own variables are read by ENV key, never by a string", () => {
    assert.deepEqual(problems(/\bread\.(string|optionalString|json)\((?!ENV\.)/, 'name not from ENV'), []);
  });

  test('nothing reads process.env or an environment by a literal name', () => {
    assert.deepEqual(problems(/process\.env\s*(\.|\[)/, 'process.env read'), []);
    assert.deepEqual(problems(/\benv\s*(\.[A-Z][A-Z0-9_]*\b|\[\s*['"`])/, 'env read by literal'), []);
  });
});
