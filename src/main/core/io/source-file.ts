/**
 * The identity of a source file (size, mtime, inode, device), taken when the job is queued and
 * checked again before and after every transfer: a file that changed in between fails with
 * source.changed, never an image with the wrong bytes.
 */
import { stat } from 'node:fs/promises';
import { EngineError } from './errors';

export interface SourceIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

export async function identify(path: string): Promise<SourceIdentity> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new EngineError('source.not_found', `The file ${path} does not exist (any more).`, {
        hint: 'Put the file back, or remove the job.',
      });
    throw new EngineError('source.unreadable', `Cannot read ${path}: ${(e as Error).message}`, {
      hint: 'Check the file permissions.',
    });
  }
  if (!s.isFile())
    throw new EngineError('source.unreadable', `${path} is not a regular file.`, { hint: 'Choose a disk image file.' });
  return { path, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), ino: s.ino, dev: s.dev };
}

export async function assertUnchanged(expected: SourceIdentity): Promise<void> {
  const now = await identify(expected.path);
  const changed = (['size', 'mtimeMs', 'ino', 'dev'] as const).filter((k) => now[k] !== expected[k]);
  if (changed.length > 0) {
    throw new EngineError(
      'source.changed',
      `The file ${expected.path} changed since it was queued (${changed.join(', ')}).`,
      {
        hint: 'An image must be the bytes that were checked: remove the job and queue the file again once it is final.',
      },
    );
  }
}
