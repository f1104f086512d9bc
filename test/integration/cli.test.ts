/**
 * The glance-uploader command as a user runs it (a real child process): exit status by error
 * family, --json output, the queue and audit commands, and an upload that ends verified.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { runCli } from '../support/cli-process';
import { makeQcow2 } from '../support/disk-fixtures';
import { hashFile, makeFile, type TestFile } from '../support/files';
import { linuxDisk } from '../support/linux-disk';

const cloud = inject('referenceCloud');
let dir: string;
let env: Record<string, string>;
let file: TestFile;
const name = `cli-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-cli-'));
  env = { GLANCE_UPLOADER_HOME: join(dir, 'home'), OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath };
  makeQcow2(join(dir, `${name}.qcow2`), '3G', 3);
  file = { path: join(dir, `${name}.qcow2`), ...(await hashFile(join(dir, `${name}.qcow2`))) };
  await makeFile(join(dir, 'noise.qcow2'), 1024 * 1024);
});

afterAll(async () => {
  const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
  const g = await engine.glance('ref-demo', 'RegionOne');
  for (const img of await g.listImages({ name })) await g.deleteImage(img.id).catch(() => undefined);
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('glance-uploader CLI', () => {
  it('prints help with exit 0, and refuses an unknown command with exit 2', async () => {
    expect((await runCli(['--help'], env)).code).toBe(0);
    expect((await runCli(['upload', '--help'], env)).stdout).toContain('--bwlimit RATE');
    const bad = await runCli(['frobnicate'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown command "frobnicate"/);
  });

  it('lists the clouds as JSON', async () => {
    const r = await runCli(['clouds', 'list', '--json'], env);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { clouds: { name: string }[] }).clouds.map((c) => c.name)).toContain('ref-demo');
  });

  it('saves a cloud with its password sealed by the passphrase, logs in with it, and refuses it without the passphrase', async () => {
    const withKey = { ...env, GLANCE_UPLOADER_SECRET_KEY: 'a passphrase for the cli test' };
    const save = await runCli(
      ['clouds', 'save', 'kept-demo', '--auth-url', cloud.keystoneUrl, '--username', 'demo', '--project', 'demo',
        '--user-domain', 'Default', '--project-domain', 'Default', '--secret-stdin'], // prettier-ignore
      withKey,
      `${cloud.users.demo.password}\n`,
    );
    expect(save.code, save.stderr).toBe(0);
    // (The reference's demo password is "demo", also the user's name: look at the row itself.)
    const db = openDatabase(join(dir, 'home', 'queue.sqlite3'));
    const row = db.prepare(`SELECT config, secret, secret_kind FROM saved_clouds WHERE name = 'kept-demo'`).get() as {
      config: string;
      secret: Buffer;
      secret_kind: string;
    };
    db.close();
    expect(JSON.parse(row.config)).toMatchObject({ auth: { username: 'demo', password_sealed: true } });
    expect(JSON.parse(row.config).auth).not.toHaveProperty('password');
    expect(row).toMatchObject({ secret_kind: 'passphrase' });
    expect(row.secret.length).toBeGreaterThan(48);
    const listed = JSON.parse((await runCli(['clouds', 'list', '--json'], withKey)).stdout) as {
      clouds: { name: string; source: string }[];
    };
    expect(listed.clouds).toContainEqual(expect.objectContaining({ name: 'kept-demo', source: 'saved in the app' }));
    const show = await runCli(['clouds', 'show', 'kept-demo', '--region', 'RegionOne', '--json'], withKey);
    expect(show.code, show.stderr).toBe(0);
    const locked = await runCli(['clouds', 'show', 'kept-demo', '--json'], env);
    expect(locked.code).toBe(3);
    expect(JSON.parse(locked.stdout)).toMatchObject({ error: { code: 'secrets.unavailable' } });
    expect((await runCli(['clouds', 'save', 'x', '--auth-url', cloud.keystoneUrl], withKey)).code).toBe(2);
    expect((await runCli(['clouds', 'forget', 'kept-demo'], withKey)).code).toBe(0);
  });

  it('shows what each region offers: methods from /v2/info/import, and stores', async () => {
    const r = await runCli(['clouds', 'show', 'ref-demo', '--json'], env);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { regions: { region: string; methods: string[]; stores: { id: string }[] }[] };
    expect(body.regions.map((x) => x.region).sort()).toEqual(['RegionOne', 'RegionTwo']);
    for (const region of body.regions) {
      // relay: RegionOne has an object store in its catalog (and web-download), RegionTwo none
      const relay = region.region === 'RegionOne' ? ['relay'] : [];
      expect(region.methods).toEqual([
        'direct',
        ...relay,
        'glance-direct',
        'web-download',
        'copy-image',
        'glance-download',
      ]);
      expect(region.stores.map((x) => x.id)).toEqual(['fast', 'cold']);
    }
    const text = await runCli(['clouds', 'show', 'ref-demo', '--region', 'RegionTwo'], env);
    expect(text.stdout).toMatch(/^RegionTwo\n {2}methods: direct, glance-direct/);
  });

  it.each([
    [
      'a missing file',
      ['upload', '/nonexistent/x.raw', '--cloud', 'ref-demo', '--region', 'RegionOne'],
      7,
      'source.not_found',
    ],
    ['an unknown cloud', ['upload', 'FILE', '--cloud', 'nope', '--region', 'RegionOne'], 3, 'config.cloud_not_found'],
    [
      'web-download of a local file',
      ['upload', 'FILE', '--cloud', 'ref-demo', '--region', 'RegionOne', '--method', 'web-download'],
      2,
      'usage',
    ],
    [
      'glance-download into one region only',
      ['upload', 'FILE', '--cloud', 'ref-demo', '--region', 'RegionOne', '--method', 'glance-download'],
      2,
      'usage',
    ],
    [
      'a URL sent by PUT',
      ['upload', 'https://example.org/a.qcow2', '--cloud', 'ref-demo', '--region', 'RegionOne', '--method', 'direct'],
      2,
      'usage',
    ],
    [
      'a copy into the store the upload writes to',
      ['upload', 'FILE', '--cloud', 'ref-demo', '--region', 'RegionOne', '--store', 'cold', '--copy-to', 'cold'],
      8,
      'queue.invalid_job',
    ],
    ['a bad rate', ['upload', 'FILE', '--cloud', 'ref-demo', '--region', 'RegionOne', '--bwlimit', 'fast'], 2, 'usage'],
    [
      'a file whose content is not its declared format',
      ['upload', 'NOISE', '--cloud', 'ref-demo', '--region', 'RegionOne', '--disk-format', 'qcow2'],
      7,
      'inspect.format_mismatch',
    ],
    ['no region', ['upload', 'FILE', '--cloud', 'ref-demo'], 2, 'usage'],
  ])('refuses %s with its exit status and a coded JSON error', async (_label, args, code, errorCode) => {
    const noise = join(dir, 'noise.qcow2');
    const r = await runCli([...args.map((a) => (a === 'FILE' ? file.path : a === 'NOISE' ? noise : a)), '--json'], env);
    expect(r.code).toBe(code);
    const out = JSON.parse(r.stdout) as { error: { code: string; message: string; hint?: string } };
    expect(out.error.code).toBe(errorCode);
    expect(out.error.hint ?? '').not.toBe('');
  });

  it('uploads with glance-direct, metadata from flags, and reports the verified image as JSON', async () => {
    const r = await runCli(
      [
        'upload',
        file.path,
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--method',
        'glance-direct',
        '--property',
        'os_distro=cirros',
        '--tag',
        'cli',
        '--min-disk',
        '1',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      jobs: { name: string; sha512: string; targets: { state: string; imageId: string }[] }[];
    };
    expect(out.jobs[0]).toMatchObject({ name, sha512: file.sha512, targets: [{ state: 'done' }] });
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
    try {
      const img = await (await engine.glance('ref-demo', 'RegionOne')).getImage(out.jobs[0]?.targets[0]?.imageId ?? '');
      // The disk format came from the content (inspection); the rest from the flags.
      expect(img).toMatchObject({
        name,
        status: 'active',
        disk_format: 'qcow2',
        container_format: 'bare',
        os_distro: 'cirros',
        tags: ['cli'],
        min_disk: 1,
        os_hash_value: file.sha512,
      });
    } finally {
      await engine.close();
    }
  });

  // Fails when upload does not check --profile (enforceProfile removed): the file is queued.
  it('refuses an upload that does not meet the metadata profile, naming what is missing, queuing nothing', async () => {
    const before = JSON.parse((await runCli(['queue', 'list', '--json'], env)).stdout) as { jobs: unknown[] };
    const r = await runCli(
      [
        'upload',
        file.path,
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--profile',
        'scs-0102-v1',
        '--property',
        'os_distro=cirros',
      ],
      env,
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('metadata.profile_unmet');
    expect(r.stderr).toContain('architecture is required by SCS-0102 v1');
    expect(r.stderr).not.toContain('os_distro is required');
    const after = JSON.parse((await runCli(['queue', 'list', '--json'], env)).stdout) as { jobs: unknown[] };
    expect(after.jobs).toHaveLength(before.jobs.length);
    const unknown = await runCli(
      ['upload', file.path, '--cloud', 'ref-demo', '--region', 'RegionOne', '--profile', 'nope'],
      env,
    );
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('metadata.profile_unknown');
    const timetable = await runCli(
      ['upload', file.path, '--cloud', 'ref-demo', '--region', 'RegionOne', '--bwlimit', 'Mon-Fri 08:00,10M 18:00,off'],
      env,
    );
    expect(timetable.code).toBe(2);
    expect(timetable.stderr).toContain('settings set bwSchedule');
  });

  it('inspects files: text and JSON, exit 7 when one would be refused', async () => {
    const good = await runCli(['inspect', file.path], env);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('format   qcow2 (v3)');
    expect(good.stdout).toContain('3.0 GiB (3221225472 bytes)');
    expect(good.stdout).toContain('declare  --disk-format qcow2 --container-format bare');
    // A guest's own word, read from its root file system (a GPT disk with an ext4 root).
    const guest = join(dir, 'guest.raw');
    linuxDisk(guest, { osRelease: 'ID=ubuntu\nVERSION_ID="24.04"\n', linked: true });
    const read = await runCli(['inspect', guest], env);
    expect(read.stdout).toContain('suggest  os_distro=ubuntu (from /etc/os-release on partition 3)');
    expect(read.stdout).toContain('suggest  architecture=x86_64 (from /bin/sh on partition 3)');
    const gz = join(dir, 'packed.qcow2.gz');
    writeFileSync(gz, gzipSync(readFileSync(file.path)));
    const bad = await runCli(['inspect', file.path, gz, '--json'], env);
    expect(bad.code).toBe(7);
    const files = (JSON.parse(bad.stdout) as { files: { format: string; safe: boolean; minDiskGiB: number | null }[] })
      .files;
    expect(files.map((f) => [f.format, f.safe, f.minDiskGiB])).toEqual([
      ['qcow2', true, 3],
      ['gzip', false, null],
    ]);
    // The same refusal stops an upload before anything is queued.
    const up = await runCli(['upload', gz, '--cloud', 'ref-demo', '--region', 'RegionOne', '--detach'], {
      ...env,
      GLANCE_UPLOADER_HOME: join(dir, 'refused-home'),
    });
    expect(up.code).toBe(7);
    expect(up.stderr).toMatch(/code: inspect\.compressed/);
    expect(up.stderr).toMatch(/hint: Decompress it first \(gunzip -k packed\.qcow2\.gz\)/);
    const listed = await runCli(['queue', 'list', '--json'], {
      ...env,
      GLANCE_UPLOADER_HOME: join(dir, 'refused-home'),
    });
    expect((JSON.parse(listed.stdout) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('queues a file under another declared format only when told to', async () => {
    const home = { ...env, GLANCE_UPLOADER_HOME: join(dir, 'mismatch-home') };
    const q = await runCli(
      [
        'upload',
        join(dir, 'noise.qcow2'),
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--disk-format',
        'qcow2',
        '--allow-format-mismatch',
        '--detach',
        '--json',
      ],
      home,
    );
    expect(q.code, q.stdout + q.stderr).toBe(0);
    const shown = await runCli(['queue', 'list', '--json'], home);
    expect((JSON.parse(shown.stdout) as { jobs: { name: string }[] }).jobs.map((j) => j.name)).toEqual(['noise']);
    for (const id of (JSON.parse(q.stdout) as { queued: { id: string }[] }).queued)
      expect((await runCli(['queue', 'cancel', id.id], home)).code).toBe(0);
  });

  it('reorders the queue by priority and by moving a job before another', async () => {
    const home = { ...env, GLANCE_UPLOADER_HOME: join(dir, 'order-home') };
    const a = await makeFile(join(dir, 'order-a.raw'), 1024);
    const b = await makeFile(join(dir, 'order-b.raw'), 1024);
    const c = await makeFile(join(dir, 'order-c.raw'), 1024);
    const q = await runCli(
      ['upload', a.path, b.path, c.path, '--cloud', 'ref-demo', '--region', 'RegionOne', '--detach', '--json'],
      home,
    );
    const ids = (JSON.parse(q.stdout) as { queued: { id: string }[] }).queued.map((j) => j.id);
    const order = async (): Promise<string[]> =>
      (JSON.parse((await runCli(['queue', 'list', '--json'], home)).stdout) as { jobs: { name: string }[] }).jobs.map(
        (j) => j.name,
      );
    expect(await order()).toEqual(['order-a', 'order-b', 'order-c']);
    expect((await runCli(['queue', 'priority', (ids[2] ?? '').slice(0, 8), '5'], home)).code).toBe(0);
    expect(await order()).toEqual(['order-c', 'order-a', 'order-b']);
    expect(
      (await runCli(['queue', 'move', (ids[1] ?? '').slice(0, 8), '--before', (ids[2] ?? '').slice(0, 8)], home)).code,
    ).toBe(0);
    expect(await order()).toEqual(['order-b', 'order-c', 'order-a']);
    const bad = await runCli(['queue', 'priority', (ids[0] ?? '').slice(0, 8), 'high'], home);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hint: For example/);
    // Nothing of this queue was sent: cancel them (nothing was created, nothing to delete).
    for (const id of ids) expect((await runCli(['queue', 'cancel', id], home)).code).toBe(0);
  });

  it('pauses and resumes through the engine that runs the queue (control requests)', async () => {
    const home = join(dir, 'control-home');
    const henv = { ...env, GLANCE_UPLOADER_HOME: home };
    const f = await makeFile(join(dir, 'control.raw'), 24 * 1024 * 1024);
    const q = await runCli(
      [
        'upload',
        f.path,
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--name',
        `${name}-control`,
        '--bwlimit',
        '3M',
        '--detach',
        '--json',
      ],
      henv,
    );
    const jobId = (JSON.parse(q.stdout) as { queued: { id: string }[] }).queued[0]?.id ?? '';
    // The engine holding the queue (as the app would) runs in this process.
    const db = openDatabase(join(home, 'queue.sqlite3'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
    const holder = new Scheduler({ db, engine, actor: 'app-like-holder' });
    expect(holder.start().acquired).toBe(true);
    const state = (): string => holder.repo.targetsOf(jobId)[0]?.state ?? '';
    try {
      const t0 = Date.now();
      while (state() !== 'uploading' && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
      const paused = await runCli(['queue', 'pause', jobId.slice(0, 8)], henv);
      expect(paused.code, paused.stderr).toBe(0);
      expect(state()).toBe('paused');
      const resumed = await runCli(['queue', 'resume', jobId.slice(0, 8)], henv);
      expect(resumed.code, resumed.stderr).toBe(0);
      await holder.idle();
      expect(state()).toBe('done');
      const controls = holder.repo
        .events({ jobId })
        .filter((e) => e.kind === 'target.control')
        .map((e) => e.detail?.action);
      expect(controls).toEqual(['pause', 'resume']);
    } finally {
      await holder.stop();
      const id = holder.repo.targetsOf(jobId)[0]?.remoteImageId;
      if (id) await (await engine.glance('ref-demo', 'RegionOne')).deleteImage(id).catch(() => undefined);
      await engine.close();
      db.close();
    }
  });

  it('shows the queue and exports the audit log as CSV', async () => {
    const list = JSON.parse((await runCli(['queue', 'list', '--json'], env)).stdout) as {
      jobs: { id: string; name: string }[];
    };
    const job = list.jobs.find((j) => j.name === name);
    expect(job).toBeDefined();
    const show = await runCli(['queue', 'show', (job?.id ?? '').slice(0, 8)], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('target.verified');
    // Each target's phases, and the job's speed from the progress samples its run wrote.
    expect(show.stdout).toMatch(/phases: waiting .*uploading \d+ s.*, done/);
    expect(show.stdout).toMatch(/speed {2}[\d.]+ (B|KiB|MiB)\/s \(last 2 min\), 0 B left, nothing left/);
    const json = JSON.parse((await runCli(['queue', 'show', (job?.id ?? '').slice(0, 8), '--json'], env)).stdout) as {
      speed: { series: number[] };
    };
    expect(json.speed.series.some((b) => b > 0)).toBe(true);
    const csv = join(dir, 'audit.csv');
    expect((await runCli(['audit', 'export', '--format', 'csv', '--output', csv], env)).code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\r\n');
    expect(lines[0]).toBe('id,time,actor,kind,job_id,target_id,from_state,to_state,cloud,region,image_id,detail');
    expect(lines.some((l) => l.includes('target.verified'))).toBe(true);
  });
});
