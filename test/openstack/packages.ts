/**
 * Debian packages the test suite needs: the reference OpenStack's and the browser's. Installed
 * with apt-get when missing (root only); a fraction of a second when all are there.
 *   tsx test/openstack/packages.ts ensure    (the first step of `npm test`)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';

export const REFERENCE_PACKAGES = [
  'python3-keystone',
  'python3-glance',
  'python3-glanceclient',
  'python3-openstackclient',
  'uwsgi-core',
  'uwsgi-plugin-python3',
  'qemu-utils',
  'curl',
  // the object store (Swift in RegionOne) and the keystonemiddleware its proxy authenticates with
  'swift',
  'swift-proxy',
  'swift-account',
  'swift-container',
  'swift-object',
  'python3-keystonemiddleware',
];

/** Debian's Chromium for the renderer tests, and a font so pages render the same everywhere. */
export const BROWSER_PACKAGES = ['chromium', 'fonts-dejavu-core'];

/** What the disk-image fixtures are made with: ISO 9660, the compressed containers, a guest's ext4. */
export const FIXTURE_PACKAGES = ['genisoimage', 'xz-utils', 'zstd', 'bzip2', 'gzip', 'tar', 'e2fsprogs'];

export const SYSTEM_PACKAGES = [...REFERENCE_PACKAGES, ...BROWSER_PACKAGES, ...FIXTURE_PACKAGES];

export function missingPackages(pkgs: string[] = REFERENCE_PACKAGES): string[] {
  return pkgs.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** Idempotent: a no-op (a fraction of a second) when everything is installed. */
export function ensurePackages(pkgs: string[] = REFERENCE_PACKAGES, log: (s: string) => void = console.log): void {
  const missing = missingPackages(pkgs);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `The reference OpenStack needs Debian packages that are missing: ${missing.join(' ')}.\n` +
        `Install them as root: apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  log(`installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Swift's packages start their services on install (a proxy on 0.0.0.0:8080...): a
  // policy-rc.d that denies every start keeps them down; ours is removed afterwards.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    writeFileSync(policy, '#!/bin/sh\n# made by glance-uploader test/openstack/packages.ts\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  try {
    aptInstall(missing, env);
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

function aptInstall(missing: string[], env: NodeJS.ProcessEnv): void {
  const update = spawnSync('apt-get', ['update', '-q'], { env, encoding: 'utf8' });
  if (update.status !== 0) throw new Error(`apt-get update failed:\n${update.stderr}`);
  const install = spawnSync(
    'apt-get',
    [
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      ...missing,
    ],
    { env, encoding: 'utf8' },
  );
  if (install.status !== 0)
    throw new Error(`apt-get install failed:\n${install.stdout.slice(-3000)}\n${install.stderr}`);
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1] && process.argv[2] === 'ensure') {
  const t0 = Date.now();
  try {
    ensurePackages(SYSTEM_PACKAGES);
    console.log(`system packages present (${SYSTEM_PACKAGES.length} checked in ${Date.now() - t0} ms)`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
