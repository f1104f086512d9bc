#!/usr/bin/env node
// The whole test suite, as README and .ci/run call it (npm test): Debian packages present, lint,
// Prettier, typecheck, electronegativity (no open high or medium finding), build, then
// every vitest project (unit, integration against the reference OpenStack, e2e in Chromium).
// Each of those steps counts as one check; vitest counts each test. The last line is
// "N passed, N failed" (", N skipped" when some were skipped).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const t0 = Date.now();
const results = [];
const step = (name, cmd, args) => {
  const t = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  const ok = r.status === 0;
  results.push({ name, ok, s: (Date.now() - t) / 1000 });
  console.log(
    `=== ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return ok;
};

step('system packages', 'npx', ['--no-install', 'tsx', 'test/openstack/packages.ts', 'ensure']);
step('lint', 'npx', ['--no-install', 'eslint', '.', '--max-warnings', '0']);
step('format', 'npx', ['--no-install', 'prettier', '--check', '.']);
step('typecheck', 'npm', ['run', '--silent', 'typecheck']);
step('electronegativity', 'node', ['scripts/electronegativity.mjs']);
const built = step('build', 'npm', ['run', '--silent', 'build']);

mkdirSync('test-results', { recursive: true });
const report = 'test-results/vitest.json';
rmSync(report, { force: true });
let passed = results.filter((r) => r.ok).length;
let failed = results.length - passed;
let skipped = 0;
const args = ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
if (!built) args.push('--project', 'unit'); // e2e needs the built renderer
console.log(`\n=== tests: npx ${args.join(' ')}`);
const v = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  skipped += j.numPendingTests + j.numTodoTests;
  // Say what did not run and why (the test name carries the reason), so a skip is never silent.
  for (const suite of j.testResults) {
    for (const t of suite.assertionResults) {
      if (t.status === 'pending' || t.status === 'skipped' || t.status === 'todo')
        console.log(`skipped: ${t.fullName}`);
    }
  }
  // A suite that failed to load (setup error) has no tests to count: count it as a failure.
  const brokenSuites = j.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
  failed += brokenSuites;
  if (v.status !== 0 && j.numFailedTests === 0 && brokenSuites === 0) failed += 1;
} else {
  console.log('vitest wrote no report: counting the test run as one failure');
  failed += 1;
}
console.log(`\nchecks: ${results.map((r) => `${r.name} ${r.ok ? 'ok' : 'FAILED'}`).join(', ')}`);
console.log(`wall time: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
