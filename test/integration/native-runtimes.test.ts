/**
 * The app's first command and its native module, proven with what runs here (no Electron binary
 * can be downloaded on this machine):
 * - better-sqlite3 per runtime: a second Node.js of another ABI (22, from the npm registry) gets
 *   its own build through the same script `npm start` uses for Electron (scripts/native.ts), and
 *   the engine worker runs under it with the same loader: queue opened, a file staged to the local
 *   server, events back; the build `npm ci` made for the Node.js running the tests is untouched.
 * - the self-check: without a build for its ABI, the worker and the CLI answer
 *   `setup.native_unavailable` with the exact command that fixes it.
 * - `npm start`: reaches Electron (a stand-in that records its arguments and environment) with
 *   the built main entry; without a binary and without a network, it names the fix; under a
 *   Node.js older than Electron's tooling needs, it says which one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { satisfies, minimumOf, electronNodeRange } from '../../scripts/start';
import { extractAll, listPackage } from '@electron/asar';
import { electronTarget } from '../../scripts/native';
import {
  BINDING_FILE,
  chooseBinding,
  sqlitePackageDir,
  sqliteVersion,
} from '../../src/main/core/sqlite/native-binding';
import { CLI } from '../support/cli-process';
import { secondNode, secondNodeAvailable, SECOND_NODE_VERSION, testCache } from '../support/second-node';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const NODE_BUILD = join(sqlitePackageDir(), 'build', 'Release', BINDING_FILE);
const electronVersion = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }
).version;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
/** Environment without npm's per-script variables (this suite may itself run under `npm test`). */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-native-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const needsSecondNode = secondNodeAvailable ? describe : describe.skip;

needsSecondNode(`better-sqlite3 per runtime (a second Node.js, ${SECOND_NODE_VERSION}, linux-x64)`, () => {
  let node22: string;
  const nativeDir = (): string => join(testCache(), 'native');

  beforeAll(() => {
    node22 = secondNode();
  }, 300_000);

  // Fails when: openSqlite loses `nativeBinding` (Node 22 then loads npm ci's ABI-115 build and
  // the worker cannot start), or scripts/native.ts builds in place (the Node 20 hash changes).
  it('builds for the second ABI in its own folder; the engine worker stages a file under that Node.js with it; the Node 20 build is untouched', async () => {
    const before = sha256(NODE_BUILD);
    const abi = execFileSync(node22, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim();
    expect(abi).not.toBe(process.versions.modules); // another ABI, or this proves nothing

    // The same script npm start runs for Electron (there with --runtime electron).
    const built = spawnSync(process.execPath, [TSX, join(ROOT, 'scripts', 'native.ts'), '--node', node22], {
      env: { ...cleanEnv(), GLANCE_UPLOADER_NATIVE_DIR: nativeDir() },
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(built.stderr + built.stdout).not.toMatch(/error:/);
    expect(built.status).toBe(0);
    const file = join(nativeDir(), `better-sqlite3-${sqliteVersion()}`, `node-v${abi}-linux-x64`, BINDING_FILE);
    expect(built.stdout.trim().split(' ')[0]).toBe(file);
    expect(existsSync(file)).toBe(true);

    const work = join(dir, 'second');
    mkdirSync(work);
    const run = spawnSync(node22, [TSX, join(ROOT, 'test', 'support', 'second-runtime-driver.ts'), work], {
      env: { ...cleanEnv(), GLANCE_UPLOADER_NATIVE_DIR: nativeDir() },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(report, run.stderr).toMatchObject({ abi, start: { acquired: true }, state: ['done'] });
    expect(report.jobEvents).toBeGreaterThan(1);
    expect(report.images).toEqual([expect.objectContaining({ status: 'active', size: 2 * 1024 * 1024 + 5 })]);
    // What the loader chose, seen from outside: the files each process has mapped.
    expect(report.mapped).toEqual([file]);
    expect(report.serverMapped).toEqual([file]);

    expect(sha256(NODE_BUILD)).toBe(before);
    // ...and this Node.js still loads it (the queue database of the tests, the CLI).
    const check = spawnSync(
      process.execPath,
      ['-e', `new (require(${JSON.stringify(sqlitePackageDir())}))(':memory:').close()`],
      { encoding: 'utf8' },
    );
    expect(check.stderr).toBe('');
  }, 900_000);

  // Fails when: the loader's failure is not coded (the worker dies: ipc.engine_stopped) or
  // carries no fix, or the worker does not answer start with the construction's error.
  it('without a build for its ABI: the worker answers start and the CLI exits 3, each with setup.native_unavailable and the command that fixes it', () => {
    const empty = join(dir, 'empty-native');
    mkdirSync(empty);
    const work = join(dir, 'missing');
    mkdirSync(work);
    const run = spawnSync(node22, [TSX, join(ROOT, 'test', 'support', 'second-runtime-driver.ts'), work], {
      env: { ...cleanEnv(), GLANCE_UPLOADER_NATIVE_DIR: empty },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      startError?: { code: string; fix?: string; message: string };
    };
    expect(report.startError?.code, run.stderr).toBe('setup.native_unavailable');
    expect(report.startError?.message).toMatch(/node 22\.\d+\.\d+ \(ABI \d+, linux-x64\)/);
    expect(report.startError?.fix).toBe(`cd "${ROOT}" && npm run native`);

    const cli = spawnSync(node22, [CLI, 'queue', 'list'], {
      env: { ...cleanEnv(), GLANCE_UPLOADER_NATIVE_DIR: empty, GLANCE_UPLOADER_HOME: join(work, 'cli-home') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(cli.status).toBe(3);
    expect(cli.stderr).toContain('code: setup.native_unavailable');
    expect(cli.stderr).toContain(`fix: cd "${ROOT}" && npm run native`);
  }, 120_000);
});

/** A copy of the project to run `npm start` in (its builds must not replace out/ under the other tests). */
function projectCopy(name: string): string {
  const copy = join(dir, name);
  mkdirSync(copy);
  for (const f of [
    'package.json',
    'src',
    'scripts',
    'bin',
    'resources',
    'electron.vite.config.ts',
    'vite.cli.config.ts',
    'tsconfig.json',
    'tsconfig.base.json',
    'tsconfig.node.json',
    'tsconfig.web.json',
    'tsconfig.test.json',
    'electron-builder.yml',
  ])
    cpSync(join(ROOT, f), join(copy, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

/**
 * An unpacked "Electron dist" whose executable records how it was started. Given to npm start as
 * ELECTRON_OVERRIDE_DIST_PATH, which electron-vite itself ignores: only start.ts's resolution
 * of the binary gets it there.
 */
function standInDist(record: string): string {
  const dist = join(dir, 'stand-in-dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(
    join(dist, 'electron'),
    `#!/bin/sh\nmkdir -p "${record}"\nprintf '%s\\n' "$@" > "${record}/args"\npwd > "${record}/cwd"\nenv > "${record}/env"\n`,
  );
  chmodSync(join(dist, 'electron'), 0o755);
  return dist;
}

/** `npm start` in `cwd` with the second Node.js first on PATH (what Electron's tooling needs). */
function npmStart(cwd: string, node: string, env: Record<string, string>): ReturnType<typeof spawnSync> {
  return spawnSync('npm', ['start'], {
    cwd,
    env: { ...cleanEnv(), PATH: `${dirname(node)}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
}

needsSecondNode('npm start', () => {
  let node22: string;
  beforeAll(() => {
    node22 = secondNode();
  }, 300_000);

  // Fails when: start.ts no longer hands electron-vite the binary (electron-vite then stops with
  // "Electron uninstall"), or no longer builds the CLI bundle the local server runs.
  it('reaches Electron (a stand-in recording its arguments and environment) with the built main entry', () => {
    const copy = projectCopy('start');
    const record = join(dir, 'record');
    const t0 = Date.now() - 1000;
    // Electron's ABI build cannot be made here (its headers are a download): a file in its place
    // lets the start go on to the launch; the stand-in never loads it.
    const native = join(dir, 'native-start');
    const electronAbi = readFileSync(join(ROOT, 'node_modules', 'electron', 'abi_version'), 'utf8').trim();
    const seeded = join(
      native,
      `better-sqlite3-${sqliteVersion()}`,
      `electron-v${electronAbi}-linux-x64`,
      BINDING_FILE,
    );
    mkdirSync(dirname(seeded), { recursive: true });
    copyFileSync(NODE_BUILD, seeded);
    const r = npmStart(copy, node22, {
      ELECTRON_OVERRIDE_DIST_PATH: standInDist(record),
      GLANCE_UPLOADER_NATIVE_DIR: native,
    });
    expect(r.status, `${String(r.stdout)}\n${String(r.stderr)}`).toBe(0);
    expect(readFileSync(join(record, 'args'), 'utf8').trim().split('\n')).toEqual(['.']);
    expect(readFileSync(join(record, 'cwd'), 'utf8').trim()).toBe(copy);
    // "." is the project: its package.json main, built by this start.
    const main = (JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { main: string }).main;
    for (const built of [main, 'out/main/runtime-worker.js', 'out/preload/index.cjs', 'out/cli/index.js'])
      expect(statSync(join(copy, built)).mtimeMs, built).toBeGreaterThan(t0);
    const env = readFileSync(join(record, 'env'), 'utf8');
    expect(env).toMatch(/^ELECTRON_RENDERER_URL=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(env).toContain(`GLANCE_UPLOADER_NATIVE_DIR=${native}`);
    expect(env).toContain(`ELECTRON_EXEC_PATH=${join(dir, 'stand-in-dist', 'electron')}`);
  }, 300_000);

  // Fails when: start.ts skips Electron's installer (electron-vite's bare "Electron uninstall"
  // comes instead), or its error loses the code or the fix.
  it.skipIf(existsSync(join(ROOT, 'node_modules', 'electron', 'path.txt')))(
    'without a binary and without a network: setup.electron_missing, naming the fix, and Electron is not started',
    () => {
      const copy = projectCopy('offline');
      const record = join(dir, 'record-offline');
      const r = npmStart(copy, node22, {
        ELECTRON_MIRROR: 'http://127.0.0.1:9/', // a closed loopback port: no network, on any machine
        electron_config_cache: join(dir, 'no-electron-cache'),
        GLANCE_UPLOADER_NATIVE_DIR: join(dir, 'native-offline'),
      });
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(`Electron ${electronVersion}'s binary is not installed and its download failed`);
      expect(r.stderr).toMatch(/ELECTRON_EXEC_PATH|ELECTRON_MIRROR|HTTPS_PROXY/);
      expect(r.stderr).toContain('code: setup.electron_missing');
      expect(existsSync(record)).toBe(false);
    },
    300_000,
  );
});

needsSecondNode('npm run dist', () => {
  let node22: string;
  beforeAll(() => {
    node22 = secondNode();
  }, 300_000);

  // What can be packaged here: the app folder (`--dir`) from a stand-in Electron dist (the real
  // one is a download; AppImage, deb, dmg and nsis need tools that are downloads too). Fails
  // when: npmRebuild goes back to true or `install-app-deps` returns (the Node build changes, or
  // the build fails offline), the native folder is not unpacked, or the Node-ABI build ships.
  it('packages the Electron-ABI module unpacked beside the asar, no Node-ABI build inside, and leaves the Node build as it was', () => {
    const copy = projectCopy('dist');
    const before = sha256(NODE_BUILD);
    const electronAbi = readFileSync(join(ROOT, 'node_modules', 'electron', 'abi_version'), 'utf8').trim();
    const key = `electron-v${electronAbi}-linux-x64`;
    const native = join(copy, 'native');
    const seeded = join(native, `better-sqlite3-${sqliteVersion()}`, key, BINDING_FILE);
    mkdirSync(dirname(seeded), { recursive: true });
    writeFileSync(seeded, 'the Electron-ABI module (a stand-in: its build needs a download)');
    const fakeDist = join(dir, 'fake-electron-dist');
    mkdirSync(fakeDist, { recursive: true });
    writeFileSync(join(fakeDist, 'electron'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(join(fakeDist, 'version'), `${electronVersion}\n`);
    const out = join(dir, 'dist-out');
    writeFileSync(
      join(copy, 'test-builder.yml'),
      // The project's config, with a local Electron dist; fuses are flipped in a real binary only.
      `extends: ./electron-builder.yml\nelectronDist: ${fakeDist}\nelectronFuses: null\ndirectories:\n  output: ${out}\n`,
    );
    const r = spawnSync('npm', ['run', 'dist', '--', '--config', 'test-builder.yml', '--dir'], {
      cwd: copy,
      env: { ...cleanEnv(), PATH: `${dirname(node22)}:${process.env.PATH}`, GLANCE_UPLOADER_NATIVE_DIR: '' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const resources = join(out, 'linux-unpacked', 'resources');
    const unpacked = join(
      resources,
      'app.asar.unpacked',
      'native',
      `better-sqlite3-${sqliteVersion()}`,
      key,
      BINDING_FILE,
    );
    expect(readFileSync(unpacked, 'utf8')).toContain('Electron-ABI module');
    const files = listPackage(join(resources, 'app.asar'), { isPack: false }).map((f) => f.replaceAll('\\', '/'));
    for (const f of [
      '/package.json',
      '/out/main/index.js',
      '/out/main/runtime-worker.js',
      '/out/preload/index.cjs',
      '/out/renderer/index.html',
      '/out/cli/index.js',
      '/node_modules/better-sqlite3/lib/database.js',
    ])
      expect(files, f).toContain(f);
    expect(files.filter((f) => /node_modules\/better-sqlite3\/(build|deps|src)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.node') && !f.startsWith('/native/'))).toEqual([]);

    // The loader, from where the packaged worker runs (app.asar/out/main), picks that very file.
    const extracted = join(dir, 'extracted', 'resources');
    extractAll(join(resources, 'app.asar'), join(extracted, 'app.asar'));
    cpSync(join(resources, 'app.asar.unpacked'), join(extracted, 'app.asar.unpacked'), { recursive: true });
    const choice = chooseBinding({}, join(extracted, 'app.asar', 'out', 'main'), electronTarget().runtime);
    expect(choice).toMatchObject({ perRuntime: true, appRoot: join(extracted, 'app.asar') });
    expect(choice.file).toBe(
      join(extracted, 'app.asar.unpacked', 'native', `better-sqlite3-${sqliteVersion()}`, key, BINDING_FILE),
    );

    expect(sha256(NODE_BUILD)).toBe(before); // so npm test, right after, loads what it loaded before
  }, 400_000);
});

describe('npm start under an older Node.js', () => {
  const old = !satisfies(process.version, minimumOf(electronNodeRange()));
  // Fails when: the version check is removed (the start then fails later, inside Electron's downloader).
  it.skipIf(!old)(`says which Node.js Electron's tooling needs (${process.version} runs the tests)`, () => {
    const r = spawnSync('npm', ['start'], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`needs Node.js >= 22.12.0; this is Node.js ${process.version}`);
    expect(r.stderr).toContain('code: setup.node_version');
  });
});
