/**
 * `glance-uploader janitor` against the reference: an image left `queued` by another tool is
 * listed (not ours) with its status and age; `--delete` without `--yes` names it and deletes
 * nothing; an image not listed is refused; with `--yes` it is gone from Glance and the audit
 * log says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/main/core/queue/database';
import { JobRepository } from '../../src/main/core/queue/job-repository';
import { issueToken } from '../openstack/reference-openstack';
import { runCli } from '../support/cli-process';
import { ReferenceImages } from '../support/reference-images';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-janitor-'));
  env = { GLANCE_UPLOADER_HOME: join(dir, 'home'), OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath };
});

afterAll(async () => {
  await images.deleteAll();
  rmSync(dir, { recursive: true, force: true });
});

interface Listed {
  leftovers: { id: string; region: string; status: string; ours: { source: string | null } | null }[];
}

describe('the janitor', () => {
  // Fails if --delete deleted without --yes, or deleted an image it did not list.
  it('lists a half-made image of another tool, names it before deleting, deletes it only with --yes', async () => {
    const made = await images.create('RegionOne', ReferenceImages.uniqueName('janitor-queued'));
    await sleep(2500); // older than --older-than 1s (Glance keeps whole seconds)
    const list = await runCli(
      ['janitor', '--cloud', 'ref-demo', '--region', 'RegionOne', '--older-than', '1s', '--json'],
      env,
    );
    expect(list.code, list.stderr).toBe(0);
    const found = (JSON.parse(list.stdout) as Listed).leftovers.find((l) => l.id === made.id);
    expect(found).toMatchObject({ region: 'RegionOne', status: 'queued', ours: null });

    const asked = await runCli(
      ['janitor', '--cloud', 'ref-demo', '--region', 'RegionOne', '--older-than', '1s', '--delete', made.id],
      env,
    );
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain(`would delete: RegionOne  ${made.id}`);
    const glance = `${cloud.glance.RegionOne.url}/v2/images/${made.id}`;
    const token = { 'x-auth-token': await issueToken(cloud, 'demo') };
    expect((await fetch(glance, { headers: token })).status).toBe(200);

    const refused = await runCli(
      [
        'janitor',
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--delete',
        '00000000-0000-0000-0000-000000000000',
        '--yes',
      ],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not one of the half-made images listed');

    const done = await runCli(
      ['janitor', '--cloud', 'ref-demo', '--region', 'RegionOne', '--older-than', '1s', '--delete', made.id, '--yes'],
      env,
    );
    expect(done.code, done.stderr).toBe(0);
    expect((await fetch(glance, { headers: token })).status).toBe(404);
    const db = openDatabase(join(dir, 'home', 'queue.sqlite3'));
    try {
      const events = new JobRepository(db, 'test').events().filter((e) => e.kind === 'janitor.deleted');
      expect(events).toEqual([expect.objectContaining({ imageId: made.id, region: 'RegionOne' })]);
    } finally {
      db.close();
    }
  }, 120_000);
});
