/**
 * The launcher itself: a second reference OpenStack started beside the suite's one (two suites
 * on one machine must not collide), with a short token lifetime and a small image size cap,
 * changed in place by the restart helpers, then stopped: no process and no state left behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pidIsOurs, readPid } from '../openstack/processes';
import {
  issueToken,
  REGIONS,
  restartGlance,
  restartKeystone,
  startReferenceOpenStack,
  stopReferenceOpenStack,
  type ReferenceCloud,
} from '../openstack/reference-openstack';

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
    tokenExpiration: 90,
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

  it('applies the token lifetime of the run, and changes it by restarting Keystone only', async () => {
    expect(await tokenLifetimeSeconds(second)).toBe(90);
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
