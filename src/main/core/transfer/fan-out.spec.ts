import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FanOut } from './fan-out';
import type { SharedBranch } from './upload-stream';

let dir: string;
let file: string;
let data: Buffer;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-fan-'));
  file = join(dir, 'img.raw');
  data = randomBytes(5 * 1024 * 1024 + 17);
  writeFileSync(file, data);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Read a branch to the end, pausing `delayMs` every chunk (a slow upload). A chunk is the
 * reader's until it asks for the next: it is copied to be kept.
 */
async function drain(r: SharedBranch, delayMs = 0, stopAfter = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of r) {
    chunks.push(Buffer.from(c));
    n += c.length;
    if (n >= stopAfter) break;
    if (delayMs) await sleep(delayMs);
  }
  return Buffer.concat(chunks);
}

describe('FanOut', () => {
  it('gives the digests to a target whose server answered at its last byte, before the read saw the end', async () => {
    const fan = new FanOut(file, data.length);
    const a = fan.branch();
    const b = fan.branch();
    // Like a server that knows the Content-Length: it answers (and the target asks for the
    // digests) as soon as the last byte is in, without waiting for the end of the stream.
    const atLastByte = async (r: SharedBranch): Promise<unknown> => {
      let n = 0;
      for await (const c of r) {
        n += c.length;
        if (n === data.length) return fan.digests();
      }
      return undefined;
    };
    const [da, db] = await Promise.all([atLastByte(a), atLastByte(b)]);
    const want = {
      md5: createHash('md5').update(data).digest('hex'),
      sha512: createHash('sha512').update(data).digest('hex'),
    };
    expect(da).toEqual(want);
    expect(db).toEqual(want);
    await fan.dispose();
  });

  it('gives every branch the whole file from one read, paced by the slowest', async () => {
    const fan = new FanOut(file, data.length);
    const fast = fan.branch();
    const slow = fan.branch();
    const [a, b] = await Promise.all([drain(fast), drain(slow, 2)]);
    expect(a.equals(data)).toBe(true);
    expect(b.equals(data)).toBe(true);
    expect(fan.bytesRead).toBe(data.length);
    expect(fan.complete).toBe(true);
    expect(await fan.digests()).toEqual({
      md5: createHash('md5').update(data).digest('hex'),
      sha512: createHash('sha512').update(data).digest('hex'),
    });
  });

  it('lets the others finish when one branch goes away mid-way', async () => {
    const fan = new FanOut(file, data.length);
    const quitter = fan.branch();
    const stayer = fan.branch();
    const [part, whole] = await Promise.all([drain(quitter, 0, 1024 * 1024), drain(stayer, 1)]);
    expect(part.length).toBeLessThan(data.length);
    expect(whole.equals(data)).toBe(true);
    expect(fan.bytesRead).toBe(data.length);
  });

  it('stops reading when every branch went away, and has no digests then', async () => {
    const fan = new FanOut(file, data.length);
    const a = fan.branch();
    const b = fan.branch();
    await Promise.all([drain(a, 0, 512 * 1024), drain(b, 0, 256 * 1024)]);
    await sleep(50);
    expect(fan.bytesRead).toBeLessThan(data.length);
    expect(fan.complete).toBe(false);
    await expect(fan.digests()).rejects.toThrow(/not read to the end/);
    await fan.dispose();
  });

  it('does not read ahead of a branch that has not started (its upload is still creating the image)', async () => {
    const fan = new FanOut(file, data.length, [], 256 * 1024);
    const early = fan.branch();
    const late = fan.branch();
    const earlyRead = drain(early);
    await sleep(100);
    // The late branch has not asked for data: at most one chunk went out.
    expect(fan.bytesRead).toBeLessThanOrEqual(256 * 1024);
    const [a, b] = await Promise.all([earlyRead, drain(late)]);
    expect(a.equals(data) && b.equals(data)).toBe(true);
  });
});
