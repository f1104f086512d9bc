/**
 * npm run dist: installers with electron-builder (AppImage and deb on Linux, dmg on macOS, nsis
 * on Windows, for this machine's platform and architecture). The app carries better-sqlite3
 * built for Electron's ABI from its own folder (scripts/native.ts), unpacked beside the asar;
 * electron-builder's own rebuild is off, so the build `npm ci` made for Node.js, which the CLI
 * and `npm test` load, is never touched: this script checks that it is byte for byte the same
 * afterwards.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BINDING_FILE, sqlitePackageDir } from '../src/main/core/sqlite/native-binding';
import { electronTarget, ensureNative } from './native';
import { fail, projectRoot, runMain } from './script-kit';
import { checkNodeForElectron } from './start';

function digest(file: string): string | undefined {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : undefined;
}

function run(what: string, args: string[]): void {
  const r = spawnSync(process.execPath, args, { cwd: projectRoot, stdio: 'inherit' });
  if (r.status !== 0) fail('internal', `${what} failed (exit ${r.status ?? r.signal}).`, 'See the output above.');
}

runMain(import.meta.url, () => {
  checkNodeForElectron('npm run dist');
  const nodeBuild = join(sqlitePackageDir(), 'build', 'Release', BINDING_FILE);
  const before = digest(nodeBuild);
  const bin = (pkg: string, file: string): string => join(projectRoot, 'node_modules', pkg, file);
  run('The app build', [bin('electron-vite', 'bin/electron-vite.js'), 'build']);
  run('The CLI build', [bin('vite', 'bin/vite.js'), 'build', '-c', 'vite.cli.config.ts', '--logLevel', 'warn']);
  ensureNative(electronTarget());
  run('electron-builder', [
    bin('electron-builder', 'cli.js'),
    '--config',
    'electron-builder.yml',
    ...process.argv.slice(2),
  ]);
  if (digest(nodeBuild) !== before)
    fail(
      'internal',
      `${nodeBuild} changed during packaging: the CLI and the tests would load a module of another ABI.`,
      'Run npm ci to restore it, and report this: electron-builder must not rebuild in place (npmRebuild: false).',
    );
  process.stdout.write('Packaged: the installers are in the output folder (dist/, unless the config says another).\n');
  return 0;
});
