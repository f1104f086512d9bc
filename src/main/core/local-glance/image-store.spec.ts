import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newImage } from './image-doc';
import { ImageStore } from './image-store';

let dir: string;
let store: ImageStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-image-store-'));
  store = new ImageStore(dir).open();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

// Imports run in the server's process: after a crash none is running. Fails if the start-up
// sweep leaves the lock (every new import answers 409 "Image has active task" for good), the
// image importing, or the task processing.
describe('the start-up sweep of imports a crash interrupted', () => {
  it('fails their tasks, drops their locks, and stages the image again (or queues it)', () => {
    const staged = newImage('00000000-0000-4000-8000-00000000000a', 'p');
    const fetched = newImage('00000000-0000-4000-8000-00000000000b', 'p');
    for (const img of [staged, fetched]) {
      const task = store.tasks.create(img.id, { projectId: 'p', userId: 'u', requestId: 'req-1' }, {});
      img.status = 'importing';
      img.properties = { os_glance_import_task: task.id, os_glance_importing_to_stores: '' };
      store.insert(img);
    }
    writeFileSync(store.stagePath(staged.id), 'staged bytes');
    expect(store.sweep().reset).toBe(2);
    expect(store.get(staged.id)).toMatchObject({
      status: 'uploading',
      properties: { os_glance_importing_to_stores: '' },
    });
    expect(store.get(fetched.id)?.status).toBe('queued');
    for (const id of [staged.id, fetched.id]) {
      expect(store.get(id)?.properties).not.toHaveProperty('os_glance_import_task');
      expect(store.tasks.of(id)[0]).toMatchObject({ status: 'failure', message: 'Task failed due to Internal Error' });
    }
  });
});
