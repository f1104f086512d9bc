import { describe, expect, it } from 'vitest';
import type { GlanceImage } from '../openstack/glance-types';
import { STAGED_VISIBILITY, stagedMetadata, stagingFields } from './local-cloud';

// The local server's member may not publish (Glance's default policy): a public image is staged
// private and keeps its visibility for the sync. Fails if staging sent `public` as it is (the
// server answers 403) or if sync lost it (the copies private) or copied the marker.
describe('a public image staged by the local member', () => {
  it('is staged private with its visibility kept, and synced public without the marker', () => {
    const fields = stagingFields({ name: 'golden', visibility: 'public', properties: { os_distro: 'ubuntu' } });
    expect(fields).toEqual({
      name: 'golden',
      visibility: 'private',
      properties: { os_distro: 'ubuntu', [STAGED_VISIBILITY]: 'public' },
    });
    expect(stagingFields({ name: 'plain', visibility: 'shared' })).toEqual({ name: 'plain', visibility: 'shared' });
    const staged = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'golden',
      visibility: 'private',
      disk_format: 'raw',
      container_format: 'bare',
      min_disk: 0,
      min_ram: 0,
      protected: false,
      tags: [],
      os_distro: 'ubuntu',
      [STAGED_VISIBILITY]: 'public',
    } as unknown as GlanceImage;
    expect(stagedMetadata(staged)).toMatchObject({ visibility: 'public', properties: { os_distro: 'ubuntu' } });
    expect(JSON.stringify(stagedMetadata(staged))).not.toContain(STAGED_VISIBILITY);
  });
});
