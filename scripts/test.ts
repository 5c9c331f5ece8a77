// The one test command: type check, lint, build the web app, then every test (unit, integration, e2e) in one
// node:test run, so its closing summary counts them all. `--only unit|e2e` narrows it; extra args are test files.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const files = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--only');

function step(name: string, cmd: string, cmdArgs: string[]): void {
  console.log(`\n▶ ${name}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(`✗ ${name} failed`);
    process.exit(r.status ?? 1);
  }
}

if (files.length === 0 && only !== 'e2e') {
  step('type check (server, sdk, e2e, bench)', 'tsc', ['-p', 'tsconfig.json']);
  step('type check (web)', 'tsc', ['-p', 'web/tsconfig.json']);
  step('lint and format (biome)', 'biome', ['check', '.']);
}
if (only !== 'unit' && files.length === 0) step('build web', 'npm', ['run', 'build', '-w', 'web', '--silent']);

const unit = [
  'server/src/**/*.test.ts',
  'server/scripts/**/*.test.ts',
  'sdk/src/**/*.test.ts',
  'bench/src/**/*.test.ts',
];
const e2e = ['e2e/**/*.e2e.test.ts'];
const patterns = files.length > 0 ? files : only === 'unit' ? unit : only === 'e2e' ? e2e : [...unit, ...e2e];
const testFiles = patterns.flatMap((p) => globSync(p, { exclude: (f) => f.includes('node_modules') })).sort();
console.log(
  `\n▶ node --test: ${testFiles.length} files${process.env.TEST_DATABASE_URL ? ' (PGlite + PostgreSQL)' : ' (PGlite only; set TEST_DATABASE_URL for PostgreSQL)'}`,
);
step('tests', process.execPath, [
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  '--test-timeout=180000',
  '--test-reporter=spec',
  ...testFiles,
]);
