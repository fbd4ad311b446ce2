// The OpenAPI document the server serves, linted by Redocly's CLI with its recommended rules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDemo } from '../lib/demo.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const redocly = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js');

let server;
before(async () => {
  server = await startDemo();
});
after(() => server?.stop());

test('/openapi.json has no error and no warning under redocly lint (recommended)', async () => {
  const response = await fetch(`${server.baseUrl}/openapi.json`);
  assert.equal(response.status, 200);
  mkdirSync(join(root, 'target'), { recursive: true });
  writeFileSync(join(root, 'target', 'openapi.json'), await response.text()); // where redocly.yaml looks

  const { stdout } = await promisify(execFile)(process.execPath, [redocly, 'lint', 'parley', '--format=json'], {
    cwd: root,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((failed) => {
    throw new Error(`redocly lint failed:\n${failed.stdout}\n${failed.stderr}`);
  });
  const report = JSON.parse(stdout);
  const problems = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
  assert.deepEqual(problems, []);
  assert.equal(report.totals.errors, 0);
  assert.equal(report.totals.warnings, 0);
});
