/**
 * A second reference OpenStack started beside the suite's one (two suites on one machine must
 * not collide), with a 20-second token lifetime and a small image size cap: a multi-step flow
 * must outlive several tokens untouched; then the restart helpers change the limits in place,
 * and the stop leaves no process and no state behind.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { fileSource, importImage, stageImageData } from '../../src/main/core/openstack/glance-data';
import { waitForImage } from '../../src/main/core/openstack/glance-wait';
import { pidIsOurs, readPid } from '../openstack/processes';
import { makeFile } from '../support/files';
import { proxiedEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy } from '../support/fault-proxy';
import {
  issueToken,
  REGIONS,
  restartGlance,
  restartKeystone,
  startReferenceOpenStack,
  stopReferenceOpenStack,
  type ReferenceCloud,
} from '../openstack/reference-openstack';
import { fileJobSource } from '../support/queue-fixture';

const suiteCloud = inject('referenceCloud');
let second: ReferenceCloud;

async function tokenLifetimeSeconds(cloud: ReferenceCloud): Promise<number> {
  const token = await issueToken(cloud, 'demo');
  const res = await fetch(`${cloud.keystoneUrl}/auth/tokens`, {
    headers: { 'x-auth-token': token, 'x-subject-token': token },
  });
  const body = (await res.json()) as { token: { issued_at: string; expires_at: string } };
  return (Date.parse(body.token.expires_at) - Date.parse(body.token.issued_at)) / 1000;
}

/** Upload `size` bytes into a new image of `region`: the HTTP status of the PUT. */
async function uploadStatus(cloud: ReferenceCloud, region: (typeof REGIONS)[number], size: number): Promise<number> {
  const token = await issueToken(cloud, 'demo');
  const base = cloud.glance[region].url;
  const created = await fetch(`${base}/v2/images`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cap-probe', disk_format: 'raw', container_format: 'bare' }),
  });
  const { id } = (await created.json()) as { id: string };
  const put = await fetch(`${base}/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(size),
  });
  await put.arrayBuffer();
  return put.status;
}

beforeAll(async () => {
  second = await startReferenceOpenStack({
    tokenExpiration: 20,
    limits: { RegionTwo: { imageSizeCap: 1024 * 1024 } },
    install: false,
    log: () => undefined,
  });
});

afterAll(async () => {
  if (second) await stopReferenceOpenStack(second);
});

describe('reference OpenStack launcher', () => {
  it('runs a second instance beside the suite one, on other ports and another state folder', () => {
    const ports = (c: ReferenceCloud): number[] => [c.keystonePort, ...REGIONS.map((r) => c.glance[r].port)];
    expect(new Set([...ports(suiteCloud), ...ports(second)]).size).toBe(6);
    expect(second.stateDir).not.toBe(suiteCloud.stateDir);
    expect(second.keystoneUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3$/);
    expect(readFileSync(second.cloudsYamlPath, 'utf8')).toContain(second.keystoneUrl);
  });

  it('a create, stage, import, wait flow outlives its 20-second tokens untouched', async () => {
    expect(await tokenLifetimeSeconds(second)).toBe(20);
    const dir = mkdtempSync(join(tmpdir(), 'gu-short-token-'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: second.cloudsYamlPath }, cwd: dir, home: dir });
    try {
      const file = await makeFile(join(dir, 'img.raw'), 8 * 1024 * 1024);
      const session = engine.session('ref-demo');
      const tokens = new Set<string>();
      const note = async (): Promise<void> => void tokens.add((await session.auth()).token);
      const glance = await engine.glance('ref-demo', 'RegionOne');
      const { image } = await glance.createImage({ name: 'short-token', disk_format: 'raw', container_format: 'bare' });
      await note();
      await sleep(12_000);
      await stageImageData(glance, image.id, fileSource(file.path, file.size));
      await note();
      await sleep(12_000); // the first token has expired by now
      const started = Date.now();
      await importImage(glance, image.id, { method: { name: 'glance-direct' } });
      const active = await waitForImage(glance, image.id, {
        importStartedAt: started,
        initialDelayMs: 200,
        timeoutMs: 60_000,
      });
      await note();
      expect(active).toMatchObject({ status: 'active', checksum: file.md5, os_hash_value: file.sha512 });
      // Renewed ahead of expiry (margin: half of 20 s), so no call ever met an expired token.
      expect(tokens.size).toBeGreaterThanOrEqual(2);
      await glance.deleteImage(image.id);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Fails when renewal ahead of expiry is off (keystone-session's #fresh always true: the cached
  // token is used until Glance refuses it): the calls after it expired meet 401s at the proxy,
  // even though GlanceClient then signs in again and the queue still ends done. Checked by hand.
  it('a throttled queue of ~45 s outlives its 20 s tokens untouched: zero 401s at a proxy in front of Glance, within 10 % of the bandwidth limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-token-queue-'));
    const proxy = await startFaultProxy(second.glance.RegionOne.url, []);
    const clouds = join(dir, 'clouds.yaml');
    writeCloudsYaml(clouds, second, [proxiedEntry(second, 'watched', proxy.url)]);
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: dir, home: dir });
    const db = openDatabase(join(dir, 'queue.sqlite3'));
    const MiB = 1024 * 1024;
    const limit = 1 * MiB;
    const scheduler = new Scheduler({ db, engine, actor: 'token-queue', concurrency: 2, bwlimit: limit });
    try {
      let total = 0;
      for (let i = 0; i < 3; i++) {
        const f = await makeFile(join(dir, `q${i}.raw`), 15 * MiB);
        total += f.size;
        scheduler.repo.createJob({
          source: await fileJobSource(f.path),
          name: `token-queue-${i}`,
          metadata: { name: `token-queue-${i}`, disk_format: 'raw', container_format: 'bare' },
          targets: [{ cloud: 'watched', region: 'RegionOne' }],
        });
      }
      scheduler.start();
      await scheduler.idle();
      // Every call to Glance went through the proxy, and none met an expired token.
      expect(proxy.log.filter((e) => e.method === 'PUT').length).toBe(3);
      expect(proxy.log.filter((e) => e.status === 401)).toEqual([]);
      const targets = scheduler.repo.listJobs().flatMap((j) => scheduler.repo.targetsOf(j.id));
      // Untouched: every target done on its first attempt, no error on the way.
      expect(targets.map((t) => [t.state, t.attempt])).toEqual([
        ['done', 1],
        ['done', 1],
        ['done', 1],
      ]);
      const events = scheduler.repo.events();
      expect(events.filter((e) => e.kind === 'target.error')).toEqual([]);
      // The global limit held: bytes over the time from the first upload start to the last upload end.
      const starts = events.filter((e) => e.toState === 'uploading').map((e) => e.at);
      const ends = events.filter((e) => e.fromState === 'uploading' && e.toState === 'verifying').map((e) => e.at);
      const seconds = (Math.max(...ends) - Math.min(...starts)) / 1000;
      expect(seconds).toBeGreaterThan(40); // longer than two token lifetimes
      const rate = total / seconds;
      expect(rate).toBeLessThan(limit * 1.1);
      expect(rate).toBeGreaterThan(limit * 0.9);
    } finally {
      await scheduler.stop();
      for (const t of db.prepare('SELECT remote_image_id FROM targets WHERE remote_image_id IS NOT NULL').all() as {
        remote_image_id: string;
      }[]) {
        await (await engine.glance('ref-demo', 'RegionOne')).deleteImage(t.remote_image_id).catch(() => undefined);
      }
      db.close();
      await engine.close();
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the queue fails a target over the image size cap for good (413), and deletes its image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-cap-'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: second.cloudsYamlPath }, cwd: dir, home: dir });
    const db = openDatabase(join(dir, 'queue.sqlite3'));
    const scheduler = new Scheduler({ db, engine, actor: 'cap-test' });
    try {
      const f = await makeFile(join(dir, 'big.raw'), 2 * 1024 * 1024);
      const { targets } = scheduler.repo.createJob({
        source: await fileJobSource(f.path),
        name: 'over-cap',
        metadata: { name: 'over-cap', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: 'ref-demo-r2', region: 'RegionTwo' }],
      });
      scheduler.start();
      await scheduler.idle();
      const t = scheduler.repo.getTarget(targets[0]?.id ?? '');
      expect(t).toMatchObject({
        state: 'failed',
        attempt: 1,
        remoteImageId: null,
        error: { code: 'glance.over_limit' },
      });
      expect(t.error?.message).toMatch(/413/);
      const imageId = scheduler.repo.events().find((e) => e.kind === 'target.image')?.imageId ?? '';
      expect(await (await engine.glance('ref-demo-r2', 'RegionTwo')).findImage(imageId)).toBeUndefined();
    } finally {
      await scheduler.stop();
      db.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changes the token lifetime by restarting Keystone only', async () => {
    second = await restartKeystone(second, 40);
    expect(await tokenLifetimeSeconds(second)).toBe(40);
  });

  it('applies the image size cap per region, and changes it by restarting that Glance', async () => {
    expect(await uploadStatus(second, 'RegionTwo', 2 * 1024 * 1024)).toBe(413);
    expect(await uploadStatus(second, 'RegionOne', 2 * 1024 * 1024)).toBe(204);
    await restartGlance(second, 'RegionTwo', { imageSizeCap: 4 * 1024 * 1024 });
    expect(await uploadStatus(second, 'RegionTwo', 2 * 1024 * 1024)).toBe(204);
  });

  it('stops exactly what it started and removes its state', async () => {
    const pids = ['keystone', 'glance-RegionOne', 'glance-RegionTwo'].map((n) =>
      readPid(join(second.stateDir, 'pids'), n),
    );
    for (const pid of pids) expect(pid !== undefined && pidIsOurs(pid, second.stateDir)).toBe(true);
    await stopReferenceOpenStack(second);
    for (const pid of pids) expect(() => process.kill(pid as number, 0)).toThrow();
    expect(existsSync(second.stateDir)).toBe(false);
    // The suite's instance is untouched.
    const res = await fetch(`${suiteCloud.glance.RegionOne.url}/healthcheck`);
    expect(res.status).toBe(200);
  });
});
