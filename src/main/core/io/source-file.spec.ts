import { appendFileSync, mkdtempSync, rmSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertUnchanged, identify } from './source-file';
import { rejectionCode } from '../../../../test/support/engine-error';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-src-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('source identity', () => {
  it('passes while the file is untouched', async () => {
    const f = join(dir, 'a.raw');
    writeFileSync(f, 'x'.repeat(100));
    const id = await identify(f);
    expect(id.size).toBe(100);
    await expect(assertUnchanged(id)).resolves.toBeUndefined();
  });

  it.each([
    ['appended to', (f: string) => appendFileSync(f, 'more')],
    ['touched', (f: string) => utimesSync(f, new Date(), new Date(Date.now() + 5000))],
    [
      'replaced by another file',
      (f: string) => {
        writeFileSync(`${f}.new`, 'y'.repeat(100));
        renameSync(`${f}.new`, f);
      },
    ],
  ])('fails with source.changed when the file was %s', async (_label, change) => {
    const f = join(dir, 'a.raw');
    writeFileSync(f, 'x'.repeat(100));
    const id = await identify(f);
    change(f);
    expect(await rejectionCode(assertUnchanged(id))).toBe('source.changed');
  });

  it('says source.not_found for a file that went away, and refuses a folder', async () => {
    const f = join(dir, 'a.raw');
    writeFileSync(f, 'x');
    const id = await identify(f);
    unlinkSync(f);
    expect(await rejectionCode(assertUnchanged(id))).toBe('source.not_found');
    expect(await rejectionCode(identify(dir))).toBe('source.unreadable');
  });
});
