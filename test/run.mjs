#!/usr/bin/env node
// Runs node's built-in test runner over test/**/*.test.ts. Node 20 does not expand globs itself, so the file list
// is built here. An optional first argument picks one suite folder (unit, integration, infra). A file gets twenty
// minutes: the 100-file chaos run in AWS proportions takes three to four alone on two cores and more beside the
// other heavy files on a slower CI machine; its own limit is seventeen, so it is judged first.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2];
const root = suite ? join('test', suite) : 'test';

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = collect(root).sort();
if (files.length === 0) {
  console.error(`no test files under ${root}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=1200000', ...files],
  {
    stdio: 'inherit',
    // The SDK's notice that Node 20 support ends concerns the test machine only; Lambda runs Node 24.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
);
process.exit(result.status ?? 1);
