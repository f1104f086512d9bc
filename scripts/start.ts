/**
 * npm start: the app from this checkout, in Electron (electron-vite dev: the renderer from Vite's
 * dev server, main and preload built into out/). First it makes sure of what the app needs, each
 * failure coded and with its fix, instead of electron-vite's bare "Electron uninstall":
 * 1. a Node.js that Electron's tooling supports (its package's `engines`);
 * 2. Electron's binary: downloaded by Electron's own installer when it is missing (Electron 45's
 *    package has no install script; nothing else would fetch it before electron-vite looks);
 *    ELECTRON_EXEC_PATH or ELECTRON_OVERRIDE_DIST_PATH point at one instead;
 * 3. better-sqlite3 built for Electron's ABI, in its own folder (scripts/native.ts);
 * 4. the CLI bundle, which the app runs as its local server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { electronTarget, ensureNative } from './native';
import { fail, projectRoot, runMain } from './script-kit';

const electronDir = join(projectRoot, 'node_modules', 'electron');

/** The lowest Node.js version a `>= X.Y.Z` engines range accepts. */
export function minimumOf(range: string): [number, number, number] {
  const m = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(range.trim());
  if (m === null) throw new Error(`unexpected engines range "${range}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function satisfies(version: string, min: [number, number, number]): boolean {
  const v = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  return true;
}

/** What Electron's npm package (and its downloader) declare they need. */
export function electronNodeRange(): string {
  return (JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')) as { engines: { node: string } }).engines
    .node;
}

export function checkNodeForElectron(command: string, version = process.version): void {
  const range = electronNodeRange();
  if (satisfies(version, minimumOf(range))) return;
  fail(
    'setup.node_version',
    `${command} runs Electron's tooling, which needs Node.js ${range.replace(/\s+/g, ' ')}; this is Node.js ${version}.`,
    `Install the Node.js LTS (22 or newer) and run ${command} with it (nvm install 22, or fnm, or your package manager). The CLI and the tests also run on Node.js 20.19.`,
  );
}

function platformPath(): string {
  if (process.platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  return process.platform === 'win32' ? 'electron.exe' : 'electron';
}

/** The Electron binary to run, downloaded through Electron's own installer when missing. */
export function electronExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.ELECTRON_EXEC_PATH;
  if (given !== undefined && given !== '') {
    if (!existsSync(given))
      fail(
        'setup.electron_missing',
        `ELECTRON_EXEC_PATH points at ${given}, which does not exist.`,
        'Point it at an Electron binary, or unset it to download Electron.',
      );
    return given;
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override !== undefined && override !== '') {
    const bin = join(override, platformPath());
    if (!existsSync(bin))
      fail(
        'setup.electron_missing',
        `ELECTRON_OVERRIDE_DIST_PATH has no ${platformPath()} (${bin}).`,
        'Point it at an unpacked Electron dist folder, or unset it to download Electron.',
      );
    return bin;
  }
  const version = electronTarget().runtime.version;
  const pathFile = join(electronDir, 'path.txt');
  const installed = (): string | undefined => {
    if (!existsSync(pathFile)) return undefined;
    const bin = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(bin) ? bin : undefined;
  };
  const have = installed();
  if (have !== undefined) return have;
  process.stderr.write(`Downloading Electron ${version} (once; Electron's own installer)...\n`);
  const r = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
    cwd: electronDir,
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  const bin = installed();
  if (r.status === 0 && bin !== undefined) return bin;
  const lines = (r.stderr ?? '').split('\n').map((l) => l.trim());
  // The network's own words (ENOTFOUND, ECONNREFUSED...) say more than fetch's "fetch failed".
  const why =
    lines.find((l) => /\b(E[A-Z_]{4,}|HTTPError|status code)\b/.test(l)) ?? lines.find((l) => /Error/.test(l));
  fail(
    'setup.electron_missing',
    `Electron ${version}'s binary is not installed and its download failed${why !== undefined ? `: ${why}` : ` (exit ${r.status ?? r.signal})`}.`,
    'Check the network or proxy (HTTPS_PROXY) and run npm start again, or use a mirror (ELECTRON_MIRROR=https://your.mirror/electron/), ' +
      `or point ELECTRON_EXEC_PATH at an Electron ${version} binary. By hand: npx install-electron`,
  );
}

function buildCli(env: NodeJS.ProcessEnv): void {
  const vite = join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '-c', 'vite.cli.config.ts', '--logLevel', 'warn'], {
    cwd: projectRoot,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) fail('internal', 'The CLI bundle (the local server) did not build.', 'See the output above.');
}

runMain(import.meta.url, async () => {
  const env = { ...process.env };
  checkNodeForElectron('npm start');
  env.ELECTRON_EXEC_PATH = electronExecutable(env);
  ensureNative(electronTarget(), { env });
  buildCli(env);
  const cli = join(projectRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const child = spawn(process.execPath, [cli, 'dev', ...process.argv.slice(2)], {
    cwd: projectRoot,
    env,
    stdio: 'inherit',
  });
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
  return new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
});
