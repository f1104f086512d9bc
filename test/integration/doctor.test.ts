/**
 * The doctor against the reference OpenStack (Glance CORS allows http://localhost:5173 only),
 * a loopback server of the test that answers CORS with a wildcard and credentials, and our own
 * embedded server: what passes, what fails, and the fix each failure proposes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { corsChecks } from '../../src/main/core/doctor/cors';
import { runDoctor } from '../../src/main/core/doctor/doctor';
import type { DoctorReport } from '../../src/main/core/doctor/report';
import { Engine } from '../../src/main/core/clouds/engine';
import { HttpClient } from '../../src/main/core/openstack/http-client';
import { ensureDataHome } from '../../src/main/core/io/data-home';
import { databasePath, openDatabase } from '../../src/main/core/queue/database';
import { JobRepository } from '../../src/main/core/queue/job-repository';
import { startServerProcess, type ServerProcess } from '../../src/main/core/local-glance/server-process';
import { CLI, runCli } from '../support/cli-process';
import { demoEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { demoObjects } from '../support/object-store';
import { startTlsServer } from '../support/tls-server';
import { withLocalCloud } from '../../src/main/core/distribution/local-cloud';

const cloud = inject('referenceCloud');
const ALLOWED = 'http://localhost:5173';
let dir: string;
let clouds: string;
let engine: Engine;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-doctor-'));
  clouds = join(dir, 'clouds.yaml');
  // The suite's clouds, and one whose RegionOne image endpoint is a closed port.
  writeCloudsYaml(clouds, cloud, [
    demoEntry(cloud, 'dead-glance', { extra: ['image_endpoint_override: http://127.0.0.1:9/'] }),
  ]);
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: dir, home: dir });
});

afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const byId = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

describe('doctor', () => {
  it('passes a healthy cloud and an allowed Horizon origin (the real CLI, --json, exit 0)', async () => {
    const env = { OS_CLIENT_CONFIG_FILE: clouds, GLANCE_UPLOADER_HOME: join(dir, 'home') };
    const r = await runCli(
      ['doctor', '--cloud', 'ref-demo', '--region', 'RegionOne', '--horizon-origin', ALLOWED, '--json'],
      env,
    );
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.code).toBe(0);
    for (const id of [
      'keystone.reachable',
      'auth',
      'token.lifetime',
      'glance.version:RegionOne',
      'glance.upload:RegionOne',
    ])
      expect(byId(report, id)?.status, id).toBe('pass');
    expect(byId(report, 'glance.offers:RegionOne')?.detail).toMatch(/glance-direct.*stores: fast \(default\), cold/);
    expect(byId(report, 'horizon.origin:RegionOne')).toMatchObject({
      status: 'pass',
      detail: `Access-Control-Allow-Origin: ${ALLOWED}`,
    });
    expect(byId(report, 'horizon.headers:RegionOne')?.status).toBe('pass');
    expect(byId(report, 'horizon.settings:RegionOne')?.fixes?.[0]?.snippet).toContain(
      "HORIZON_IMAGES_UPLOAD_MODE = 'direct'",
    );
    expect(report.throughput.RegionOne).toBeGreaterThan(0);
    // The probe image was deleted.
    const left = await (await engine.glance('ref-demo', 'RegionOne')).listImages({ name: undefined });
    expect(left.filter((i) => (i.name ?? '').startsWith('glance-uploader-doctor-probe-'))).toEqual([]);
    // The human form: one line per check, and the exit status says the rest.
    const text = await runCli(['doctor', '--cloud', 'ref-demo', '--region', 'RegionOne', '--probe-mib', '0'], env);
    expect(text.stdout).toMatch(/^ok\s+Sign-in: Signed in to project demo/m);
    expect(text.stdout).toMatch(/0 failed, \d+ warning\(s\)/);
  });

  // Fails when the probe's objects or image are not deleted (the finally of probeRelay removed),
  // or when a region without an object store is called able to relay.
  it('says whether each region can relay, trying it for real where it can, and leaves nothing behind', async () => {
    const env = { OS_CLIENT_CONFIG_FILE: clouds, GLANCE_UPLOADER_HOME: join(dir, 'home') };
    const r = await runCli(['doctor', '--cloud', 'ref-demo', '--json', '--probe-mib', '1'], env);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(byId(report, 'relay:RegionOne')).toMatchObject({ status: 'pass' });
    expect(byId(report, 'relay:RegionOne')?.detail).toMatch(
      /probe went through .* Glance imported it \(web-download\)/,
    );
    expect(byId(report, 'relay:RegionTwo')).toMatchObject({ status: 'warn' });
    expect(byId(report, 'relay:RegionTwo')?.detail).toMatch(/no object store \(object-store\) in the catalog/);
    const images = await (await engine.glance('ref-demo', 'RegionOne')).listImages({ name: undefined });
    expect(images.filter((i) => (i.name ?? '').startsWith('glance-uploader-doctor-relay-'))).toEqual([]);
    expect((await demoObjects(cloud)).filter((o) => o.includes('doctor-probe-'))).toEqual([]);
  });

  it('fails a refused origin with the glance-api.conf [cors] fix for that origin (exit 1)', async () => {
    const r = await runCli(
      [
        'doctor',
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne',
        '--horizon-origin',
        'http://horizon.example:8080',
        '--probe-mib',
        '0',
      ],
      { OS_CLIENT_CONFIG_FILE: clouds, GLANCE_UPLOADER_HOME: join(dir, 'home') },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^FAIL {2}Glance allows the origin http:\/\/horizon\.example:8080: The preflight .* came back without Access-Control-Allow-Origin/m,
    );
    expect(r.stdout).toContain('fix (glance-api.conf');
    expect(r.stdout).toContain('allowed_origin = http://horizon.example:8080');
    expect(r.stdout).toMatch(/X-OpenStack-Image-Size/);
  });

  it('fails an https Horizon against an http endpoint (mixed content)', async () => {
    const report = await runDoctor(engine, {
      cloud: 'ref-demo',
      region: 'RegionOne',
      horizonOrigin: 'https://horizon.example',
      probeBytes: 0,
    });
    expect(byId(report, 'horizon.mixed-content:RegionOne')).toMatchObject({ status: 'fail' });
    expect(byId(report, 'horizon.mixed-content:RegionOne')?.fixes?.[0]?.snippet).toContain(
      'openstack endpoint set --url https://127.0.0.1:',
    );
  });

  it('fails when the largest queued upload outlives a token, with the keystone.conf fix', async () => {
    const report = await runDoctor(engine, {
      cloud: 'ref-demo',
      region: 'RegionOne',
      largestQueuedBytes: 4 * 1024 ** 4, // 4 TiB: longer than any token of the reference at loopback speed
      probeBytes: 4 * 1024 * 1024,
    });
    const t = byId(report, 'token.upload:RegionOne');
    expect(t).toMatchObject({ status: 'fail' });
    expect(t?.detail).toMatch(/4096\.0 GiB at .* MB\/s takes about .* h; tokens live/);
    expect(t?.fixes?.[0]?.snippet).toMatch(/^\[token\]\nexpiration = \d+$/);
  });

  it('the CLI compares the token with the largest upload queued for the cloud in its data folder', async () => {
    const home = join(dir, 'queued-home');
    const db = openDatabase(databasePath(ensureDataHome(home)));
    try {
      new JobRepository(db, 'test').createJob({
        source: { kind: 'file', path: '/images/huge.raw', size: 4 * 1024 ** 4, mtimeMs: 1, ino: 1, dev: 1 },
        name: 'huge',
        metadata: { name: 'huge', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: 'ref-demo', region: 'RegionOne' }],
      });
    } finally {
      db.close();
    }
    const r = await runCli(['doctor', '--cloud', 'ref-demo', '--region', 'RegionOne', '--probe-mib', '2', '--json'], {
      OS_CLIENT_CONFIG_FILE: clouds,
      GLANCE_UPLOADER_HOME: home,
    });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(byId(report, 'token.upload:RegionOne')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^4096\.0 GiB at/),
      fixes: [
        {
          where: expect.stringMatching(/^keystone\.conf/),
          snippet: expect.stringMatching(/\[token\]\nexpiration = \d+/),
        },
      ],
    });
  });

  it('fails an unreachable image endpoint, and a region the catalog does not have', async () => {
    const dead = await runDoctor(engine, { cloud: 'dead-glance', region: 'RegionOne', probeBytes: 0 });
    expect(byId(dead, 'auth')?.status).toBe('pass');
    expect(byId(dead, 'glance.version:RegionOne')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/127\.0\.0\.1:9/),
    });
    const nowhere = await runDoctor(engine, { cloud: 'ref-demo', region: 'Atlantis', probeBytes: 0 });
    expect(byId(nowhere, 'catalog.endpoints:Atlantis')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/No image endpoint in region Atlantis/),
    });
    const wrong = await runDoctor(engine, { cloud: 'no-such-cloud' });
    expect(wrong.checks).toEqual([expect.objectContaining({ id: 'config', status: 'fail' })]);
  });

  it('names the certificate problem when Keystone’s TLS fails, and proposes a cacert', async () => {
    const tls = await startTlsServer(mkdtempSync(join(dir, 'tls-')), (_req, res) => res.end('{}'));
    const yaml = join(dir, 'tls-clouds.yaml');
    writeFileSync(
      yaml,
      `clouds:\n  self-signed:\n    auth:\n      auth_url: ${tls.url}/v3\n      username: u\n      password: p\n      project_name: p\n      user_domain_id: default\n      project_domain_id: default\n`,
    );
    const e = new Engine({ env: { OS_CLIENT_CONFIG_FILE: yaml }, cwd: dir, home: dir });
    try {
      const report = await runDoctor(e, { cloud: 'self-signed' });
      const k = byId(report, 'keystone.reachable');
      expect(k).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/TLS to https:\/\/127\.0\.0\.1:\d+ failed: .*self-signed/i),
      });
      expect(k?.fixes?.[0]?.snippet).toContain('cacert: /path/to/ca-bundle.pem');
      expect(report.checks).toHaveLength(1); // nothing else is meaningful without Keystone
    } finally {
      await e.close();
      await tls.close();
    }
  });

  it('fails a wildcard origin sent with credentials (a loopback server of the test)', async () => {
    const server: Server = createServer((req, res) => {
      res.writeHead(200, {
        'access-control-allow-origin': '*',
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET,PUT',
        'access-control-allow-headers': 'Content-Type,X-Auth-Token,X-OpenStack-Image-Size',
      });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const http = new HttpClient();
    try {
      const port = (server.address() as { port: number }).port;
      const checks = await corsChecks(http, { endpoint: `http://127.0.0.1:${port}`, origin: ALLOWED, region: 'R' });
      expect(checks.find((c) => c.id === 'horizon.origin:R')).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/\* together with Access-Control-Allow-Credentials: true/),
      });
      expect(checks.find((c) => c.id === 'horizon.max-age:R')?.status).toBe('warn');
    } finally {
      await http.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('passes our own embedded server, CORS included', async () => {
    const home = join(dir, 'embedded');
    const env = { GLANCE_UPLOADER_HOME: home };
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess({
        entry: CLI,
        dataDir: join(home, 'staging-server'),
        env,
        extraArgs: ['--cors-origin', ALLOWED],
      });
      const local = new Engine(withLocalCloud({ env, cwd: dir, home: dir }));
      try {
        const report = await runDoctor(local, { cloud: 'local', horizonOrigin: ALLOWED });
        expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
        expect(byId(report, 'glance.upload:local')?.status).toBe('pass');
        expect(byId(report, 'horizon.origin:local')?.status).toBe('pass');
      } finally {
        await local.close();
      }
    } finally {
      await server?.stop();
    }
  });
});
