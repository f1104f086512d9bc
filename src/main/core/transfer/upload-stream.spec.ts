import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { uploadStream } from './upload-stream';

const dir = mkdtempSync(join(tmpdir(), 'gu-upload-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('uploadStream', () => {
  it('survives a body opened after the stop began (its signal already aborted), never read', async () => {
    const path = join(dir, 'a.raw');
    writeFileSync(path, Buffer.alloc(256 * 1024, 1));
    const abort = new AbortController();
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const u = uploadStream(path, 256 * 1024, { buckets: [], signal: abort.signal });
      abort.abort(); // the app stops; a resend still opens the body
      u.source.open();
      await new Promise((r) => setTimeout(r, 50));
      await u.dispose();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('reads the whole file and hashes exactly what went out, again when opened a second time', async () => {
    const path = join(dir, 'b.raw');
    writeFileSync(path, Buffer.alloc(300 * 1024, 7));
    const u = uploadStream(path, 300 * 1024, { buckets: [] });
    const read = async (): Promise<number> => {
      let n = 0;
      for await (const c of u.source.open()) n += (c as Buffer).length;
      return n;
    };
    u.source.open(); // opened, dropped (a resend follows)
    expect(await read()).toBe(300 * 1024);
    expect((await u.digests()).md5).toMatch(/^[0-9a-f]{32}$/);
    await u.dispose();
  });
});
