/**
 * Offline staging, then sync, through the real CLI as users run it: images staged with no cloud
 * reachable (the local server started by the CLI for the duration), then synced to both regions
 * of a reference OpenStack of this file's own (one of its regions is stopped and started
 * again): active, sha512 verified, the same metadata, where each went recorded, nothing sent
 * twice; a region down during a sync; the engine killed in the middle of one.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/core/queue/database';
import {
  issueToken,
  resumeGlance,
  startReferenceOpenStack,
  stopGlance,
  stopReferenceOpenStack,
  type ReferenceCloud,
} from '../openstack/reference-openstack';
import { runCli, startCli } from '../support/cli-process';
import { makeFile, type TestFile } from '../support/files';
import { until } from '../support/queue-fixture';

const MiB = 1024 * 1024;
const REGIONS = ['RegionOne', 'RegionTwo'] as const;
let cloud: ReferenceCloud;
let dir: string;
let home: string;
/** A clouds.yaml whose only cloud cannot be reached: staging must not need one. */
let offlineClouds: string;
const files: Record<string, TestFile> = {};

interface StagedJson {
  staged: {
    id: string;
    name: string;
    status: string;
    size: number;
    sha512: string;
    tags: string[];
    synced: { cloud: string; region: string; method: string; state: string; imageId: string | null }[];
  }[];
}

const onlineEnv = (): Record<string, string> => ({
  GLANCE_UPLOADER_HOME: home,
  OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath,
});

async function remoteImages(region: (typeof REGIONS)[number], name: string): Promise<Record<string, unknown>[]> {
  const token = await issueToken(cloud, 'demo');
  const res = await fetch(`${cloud.glance[region].url}/v2/images?name=${encodeURIComponent(name)}`, {
    headers: { 'x-auth-token': token },
  });
  return ((await res.json()) as { images: Record<string, unknown>[] }).images;
}

async function stagedList(): Promise<StagedJson> {
  const r = await runCli(['staged', 'list', '--json'], onlineEnv());
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StagedJson;
}

/** Target rows of the queue, read from the database file the CLI writes. */
function targetRows(): { region: string; state: string; remote_image_id: string | null; error_code: string | null }[] {
  const db = openDatabase(join(home, 'queue.sqlite3'));
  try {
    return db.prepare('SELECT region, state, remote_image_id, error_code FROM targets').all() as never;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-sync-'));
  home = join(dir, 'home');
  offlineClouds = join(dir, 'offline-clouds.yaml');
  writeFileSync(
    offlineClouds,
    'clouds:\n  ref-demo:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n      username: demo\n      password: x\n      project_name: demo\n      user_domain_id: default\n      project_domain_id: default\n    region_name: RegionOne\n',
  );
  for (const [name, size] of [
    ['alpha', 3 * MiB + 1],
    ['beta', 5 * MiB],
    ['gamma', 1 * MiB + 77],
    ['delta', 2 * MiB + 5],
    ['omega', 48 * MiB],
    ['omega2', 48 * MiB],
    ['rho', 2 * MiB + 9],
    ['sigma', 1 * MiB + 3],
    ['pub', 1 * MiB + 11],
  ] as const)
    files[name] = await makeFile(join(dir, `${name}.raw`), size);
  cloud = await startReferenceOpenStack({ install: false, log: () => undefined });
});

afterAll(async () => {
  if (cloud) await stopReferenceOpenStack(cloud);
  rmSync(dir, { recursive: true, force: true });
});

describe('offline staging, then sync', () => {
  it('stages three images with no cloud reachable, syncs them to both regions verified with the same metadata, and never sends one twice', async () => {
    const offline = { GLANCE_UPLOADER_HOME: home, OS_CLIENT_CONFIG_FILE: offlineClouds };
    for (const name of ['alpha', 'beta', 'gamma']) {
      const r = await runCli(
        [
          'stage',
          files[name]?.path ?? '',
          '--name',
          name,
          '--tag',
          'golden',
          '--property',
          `os_distro=${name}os`,
          '--min-ram',
          '512',
        ],
        offline,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('started the local server');
    }
    const before = await stagedList();
    expect(before.staged.map((s) => s.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
    for (const s of before.staged) {
      expect(s).toMatchObject({ status: 'active', size: files[s.name]?.size, sha512: files[s.name]?.sha512 });
      expect(s.synced).toEqual([]);
    }

    const sync = await runCli(
      ['sync', '--cloud', 'ref-demo', '--region', 'RegionOne,RegionTwo', '--json'],
      onlineEnv(),
    );
    expect(sync.code, sync.stderr).toBe(0);
    // The plan: RegionOne gets the push, RegionTwo (it offers glance-download) pulls from it.
    const planned = (JSON.parse(sync.stdout) as ReportJson).jobs.flatMap((j) => j.targets);
    expect(planned.filter((t) => t.region === 'RegionTwo').map((t) => t.why)).toEqual(
      Array(3).fill(expect.stringMatching(/^RegionTwo offers glance-download and shares RegionOne's Keystone/)),
    );
    const after = await stagedList();
    for (const s of after.staged) {
      expect(s.synced.map((x) => [x.region, x.method, x.state]).sort()).toEqual([
        ['RegionOne', 'direct', 'done'],
        ['RegionTwo', 'glance-download', 'done'],
      ]);
      for (const region of REGIONS) {
        const remote = await remoteImages(region, s.name);
        expect(remote).toHaveLength(1);
        expect(remote[0]).toMatchObject({
          id: s.synced.find((x) => x.region === region)?.imageId,
          status: 'active',
          size: files[s.name]?.size,
          checksum: files[s.name]?.md5,
          os_hash_value: files[s.name]?.sha512,
          disk_format: 'raw',
          container_format: 'bare',
          min_ram: 512,
          tags: ['golden'],
          os_distro: `${s.name}os`,
        });
      }
    }

    // Again: every region already has every image; nothing is queued or sent.
    const again = await runCli(
      ['sync', '--cloud', 'ref-demo', '--region', 'RegionOne,RegionTwo', '--json'],
      onlineEnv(),
    );
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { jobs: unknown[]; skipped: unknown[] }).skipped).toHaveLength(6);
    for (const name of ['alpha', 'beta', 'gamma'])
      for (const region of REGIONS) expect(await remoteImages(region, name)).toHaveLength(1);
  });

  it('links an image a region already has (same sha512) instead of sending it, and can remove the staged copy once verified', async () => {
    const token = await issueToken(cloud, 'demo');
    // RegionTwo already holds delta's bytes under another name.
    const created = await fetch(`${cloud.glance.RegionTwo.url}/v2/images`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'delta-elsewhere', disk_format: 'raw', container_format: 'bare' }),
    });
    const existing = ((await created.json()) as { id: string }).id;
    const put = await fetch(`${cloud.glance.RegionTwo.url}/v2/images/${existing}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
      body: readFileSync(files.delta?.path ?? ''),
    });
    expect(put.status).toBe(204);
    expect((await runCli(['stage', files.delta?.path ?? '', '--name', 'delta'], onlineEnv())).code).toBe(0);
    const r = await runCli(
      ['sync', 'delta', '--cloud', 'ref-demo', '--region', 'RegionTwo', '--remove-local'],
      onlineEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(existing); // linked: the target's image is the one already there
    expect(await remoteImages('RegionTwo', 'delta')).toHaveLength(0);
    // Every target verified: the staged copy is gone, its record stays in the queue.
    expect((await stagedList()).staged.map((s) => s.name)).not.toContain('delta');
    expect(targetRows().filter((t) => t.remote_image_id === existing)).toHaveLength(1);
  });

  it('finishes a region that was down once it is back, the other region not held back', async () => {
    expect((await runCli(['stage', files.omega?.path ?? '', '--name', 'omega'], onlineEnv())).code).toBe(0);
    await stopGlance(cloud, 'RegionTwo');
    const run = startCli(['sync', 'omega', '--cloud', 'ref-demo', '--region', 'RegionOne,RegionTwo'], onlineEnv());
    try {
      // Only omega's targets are open: the earlier syncs are all done.
      await until('RegionOne done while RegionTwo is down', () => {
        const open = targetRows().filter((t) => t.state !== 'done');
        const two = open.find((t) => t.region === 'RegionTwo');
        return open.length === 1 && two?.state === 'retrying' && two.error_code?.startsWith('net.') === true;
      });
    } finally {
      await resumeGlance(cloud, 'RegionTwo');
    }
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    for (const region of REGIONS) {
      const remote = await remoteImages(region, 'omega');
      expect(remote).toHaveLength(1);
      expect(remote[0]).toMatchObject({ status: 'active', os_hash_value: files.omega?.sha512 });
    }
  });

  it('finishes a sync whose engine was killed mid-transfer, without a duplicate image', async () => {
    expect((await runCli(['stage', files.omega2?.path ?? '', '--name', 'omega-2'], onlineEnv())).code).toBe(0);
    const run = startCli(
      ['sync', 'omega-2', '--cloud', 'ref-demo', '--region', 'RegionOne,RegionTwo', '--bwlimit', '8M'],
      onlineEnv(),
    );
    await until('bytes on the wire', () =>
      targetRows().some((t) => t.state === 'uploading' && t.remote_image_id !== null),
    );
    await new Promise((r) => setTimeout(r, 1500));
    // The local server this CLI started for the command: it must not outlive its starter.
    const server = JSON.parse(readFileSync(join(home, 'staging-server', 'server.json'), 'utf8')) as { pid: number };
    run.child.kill('SIGKILL');
    await run.done;
    await until(
      'the orphaned local server to stop',
      () => {
        try {
          process.kill(server.pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
    );
    // The next engine picks the job up where the queue says it is.
    const resumed = await runCli(['queue', 'run'], onlineEnv());
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const region of REGIONS) {
      const remote = await remoteImages(region, 'omega-2');
      expect(remote).toHaveLength(1);
      expect(remote[0]).toMatchObject({ status: 'active', os_hash_value: files.omega2?.sha512 });
    }
    const staged = (await stagedList()).staged.find((s) => s.name === 'omega-2');
    expect(staged?.synced.map((s) => s.state)).toEqual(['done', 'done']);
  });
});

describe('auto-sync', () => {
  it('queues an image staged while the cloud is down at once, and syncs it by itself when the cloud is back', async () => {
    const on = await runCli(['sync', '--auto', '--cloud', 'ref-demo', '--region', 'RegionOne'], onlineEnv());
    expect(on.code, on.stderr).toBe(0);
    expect(on.stderr).toContain('auto-sync is on');
    expect((await stagedList()) as unknown).toMatchObject({ autoSync: { cloud: 'ref-demo', regions: ['RegionOne'] } });
    await stopGlance(cloud, 'RegionOne');
    let run: ReturnType<typeof startCli> | undefined;
    try {
      const staged = await runCli(['stage', files.sigma?.path ?? '', '--name', 'sigma'], onlineEnv());
      expect(staged.code, staged.stderr).toBe(0);
      expect(staged.stderr).toContain('auto-sync: queued 1 sync job(s)');
      // The queue runs while the region is down: the target waits for it, without using up its retries.
      run = startCli(['queue', 'run'], onlineEnv());
      await until('the sync to wait for the network', () =>
        targetRows().some((t) => t.state === 'retrying' && t.error_code === 'net.unreachable'),
      );
    } finally {
      await resumeGlance(cloud, 'RegionOne');
    }
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    const remote = await remoteImages('RegionOne', 'sigma');
    expect(remote).toHaveLength(1);
    expect(remote[0]).toMatchObject({ status: 'active', os_hash_value: files.sigma?.sha512 });
    const off = await runCli(['sync', '--stop-auto'], onlineEnv());
    expect(off.code).toBe(0);
    expect((await stagedList()) as unknown).toMatchObject({ autoSync: null });
  });
});

interface ReportJson {
  jobs: {
    targets: {
      region: string;
      store: string;
      method: string;
      why?: string;
      state: string;
      imageId: string;
      verified: boolean;
      durationMs: number | null;
    }[];
  }[];
}

async function imageById(region: (typeof REGIONS)[number], id: string): Promise<Record<string, unknown>> {
  const token = await issueToken(cloud, 'admin');
  const res = await fetch(`${cloud.glance[region].url}/v2/images/${id}`, { headers: { 'x-auth-token': token } });
  return (await res.json()) as Record<string, unknown>;
}

describe('multi-region distribution', () => {
  let sourceId: string;

  beforeAll(async () => {
    const r = await runCli(
      [
        'upload',
        files.rho?.path ?? '',
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--name',
        'rho',
        '--tag',
        'golden',
        '--property',
        'os_distro=rho',
        '--json',
      ],
      onlineEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    sourceId = (JSON.parse(r.stdout) as ReportJson).jobs[0]?.targets[0]?.imageId ?? '';
  });

  it('replicates with glance-download: the region pulls it, with the same id and metadata, verified', async () => {
    const r = await runCli(
      ['replicate', sourceId, '--cloud', 'ref-demo', '--from', 'RegionOne', '--to', 'RegionTwo', '--same-id', '--json'],
      onlineEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    const targets = (JSON.parse(r.stdout) as ReportJson).jobs.flatMap((j) => j.targets);
    expect(targets.map((t) => [t.region, t.method, t.state, t.imageId])).toEqual([
      ['RegionOne', 'existing', 'done', sourceId],
      ['RegionTwo', 'glance-download', 'done', sourceId],
    ]);
    expect(targets[1]).toMatchObject({ verified: true, why: expect.stringMatching(/offers glance-download/) });
    expect(await imageById('RegionTwo', sourceId)).toMatchObject({
      status: 'active',
      os_hash_value: files.rho?.sha512,
      tags: ['golden'],
      os_distro: 'rho',
    });
  });

  it('replicates by push from one verified local copy, which is removed afterwards', async () => {
    const r = await runCli(
      [
        'replicate',
        sourceId,
        '--cloud',
        'ref-demo',
        '--from',
        'RegionOne',
        '--to',
        'RegionTwo',
        '--method',
        'push',
        '--json',
      ],
      onlineEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    const targets = (JSON.parse(r.stdout) as ReportJson).jobs.flatMap((j) => j.targets);
    expect(targets.map((t) => [t.region, t.method, t.state])).toEqual([['RegionTwo', 'direct', 'done']]);
    expect(targets[0]?.imageId).not.toBe(sourceId);
    expect(await imageById('RegionTwo', targets[0]?.imageId ?? '')).toMatchObject({
      status: 'active',
      os_hash_value: files.rho?.sha512,
      os_distro: 'rho',
    });
    expect(existsSync(join(home, 'cache', `${sourceId}.img`))).toBe(false);
  });

  it('copies into the second store with copy-image (as an admin), and refuses that plan to a member', async () => {
    const refused = await runCli(
      [
        'replicate',
        sourceId,
        '--cloud',
        'ref-demo',
        '--from',
        'RegionOne',
        '--to',
        'RegionTwo',
        '--store',
        'fast,cold',
      ],
      onlineEnv(),
    );
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('admins only');
    const r = await runCli(
      ['upload', files.rho?.path ?? '', '--cloud', 'ref-admin', '--region', 'RegionOne,RegionTwo', '--method', 'auto',
        '--store', 'fast', '--copy-to', 'cold', '--name', 'rho-admin', '--json'], // prettier-ignore
      onlineEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    const targets = (JSON.parse(r.stdout) as ReportJson).jobs.flatMap((j) => j.targets);
    expect(targets.map((t) => `${t.region}/${t.store}:${t.method}:${t.state}`).sort()).toEqual([
      'RegionOne/cold:copy-image:done',
      'RegionOne/fast:direct:done',
      'RegionTwo/cold:copy-image:done',
      'RegionTwo/fast:glance-download:done',
    ]);
    for (const region of REGIONS) {
      const id = targets.find((t) => t.region === region && t.store === 'fast')?.imageId ?? '';
      const img = await imageById(region, id);
      expect(img).toMatchObject({ status: 'active', os_hash_value: files.rho?.sha512 });
      expect(String(img.stores).split(',').sort()).toEqual(['cold', 'fast']);
    }
  });

  // The local server's member may not publish (Glance's publicize_image): a public image is staged
  // private, its visibility kept in glance_uploader_visibility, and sync publishes the copy. Fails
  // if the local cloud's createFields hook is not applied (the stage answers 403) or if sync
  // ignores the kept visibility (the copy is private).
  it('stages a public image as the local member, and syncs it public (as an admin of the cloud)', async () => {
    const offline = { GLANCE_UPLOADER_HOME: home, OS_CLIENT_CONFIG_FILE: offlineClouds };
    const staged = await runCli(['stage', files.pub?.path ?? '', '--name', 'pub', '--visibility', 'public'], offline);
    expect(staged.code, staged.stderr).toBe(0);
    const sync = await runCli(['sync', 'pub', '--cloud', 'ref-admin', '--region', 'RegionOne'], onlineEnv());
    expect(sync.code, sync.stderr).toBe(0);
    const [copy] = await remoteImages('RegionOne', 'pub');
    expect(copy).toMatchObject({ visibility: 'public', status: 'active', os_hash_value: files.pub?.sha512 });
    expect(copy).not.toHaveProperty('glance_uploader_visibility');
  });
});
