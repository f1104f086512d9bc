/**
 * The cloud's metadata definitions (/v2/metadefs) as the upload form reads them, against the
 * reference Glance: a namespace an operator defined for images (with the `hw_` prefix of its
 * association) is read by a member of the demo project with its prefixed property names, types
 * and allowed values; a namespace for another resource type is not.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { imageMetadefs } from '../../src/main/core/openstack/glance-metadefs';
import { issueToken } from '../openstack/reference-openstack';

const cloud = inject('referenceCloud');
const base = cloud.glance.RegionOne.url;
const ours = `OS::Test::Video${randomUUID().slice(0, 6)}`;
const other = `OS::Test::Volume${randomUUID().slice(0, 6)}`;
let engine: Engine;
let dir: string;
let adminToken: string;

async function define(namespace: string, resourceType: string, prefix: string): Promise<void> {
  const res = await fetch(`${base}/v2/metadefs/namespaces`, {
    method: 'POST',
    headers: { 'x-auth-token': adminToken, 'content-type': 'application/json' },
    body: JSON.stringify({
      namespace,
      display_name: `Test ${namespace}`,
      visibility: 'public',
      resource_type_associations: [{ name: resourceType, prefix }],
      properties: {
        video_model: { title: 'Video model', type: 'string', enum: ['virtio', 'vga', 'qxl'], description: 'The card.' },
        video_ram: { title: 'Video RAM', type: 'integer' },
      },
    }),
  });
  expect(res.status, await res.text()).toBe(201);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-metadefs-'));
  adminToken = await issueToken(cloud, 'admin');
  await define(ours, 'OS::Glance::Image', 'hw_');
  await define(other, 'OS::Cinder::Volume', 'vol_');
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
});

afterAll(async () => {
  for (const ns of [ours, other])
    await fetch(`${base}/v2/metadefs/namespaces/${encodeURIComponent(ns)}`, {
      method: 'DELETE',
      headers: { 'x-auth-token': adminToken },
    });
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('metadata definitions', () => {
  // Fails when the namespace is read without ?resource_type (the names lose their hw_ prefix),
  // or when the list is not filtered to OS::Glance::Image (the volume's vol_ names appear).
  it('reads the properties defined for images, with their prefix, types and allowed values', async () => {
    const defs = await imageMetadefs(await engine.glance('ref-demo', 'RegionOne'));
    const mine = defs.filter((d) => d.namespace === `Test ${ours}`);
    expect(mine).toEqual([
      {
        key: 'hw_video_model',
        namespace: `Test ${ours}`,
        title: 'Video model',
        description: 'The card.',
        type: 'string',
        enum: ['virtio', 'vga', 'qxl'],
      },
      { key: 'hw_video_ram', namespace: `Test ${ours}`, title: 'Video RAM', type: 'integer' },
    ]);
    expect(defs.some((d) => d.key.startsWith('vol_'))).toBe(false);
  });
});
