import { describe, expect, it } from 'vitest';
import { sourceTargetOf, validateTargets } from './target-methods';
import { thrownBy } from '../../../../test/support/engine-error';

const t = (region: string, method: string, store = '') => ({ cloud: 'c', region, store, method });

function codeOf(f: () => void): string | undefined {
  const e = thrownBy(f);
  if (e !== undefined) expect(e.info.hint).toBeTruthy(); // every refusal says what to do
  return e?.code;
}

describe('target methods', () => {
  it('finds what copy-image and glance-download start from', () => {
    const up = t('R1', 'direct');
    const copy = t('R1', 'copy-image', 'cold');
    const pull = t('R2', 'glance-download');
    const all = [up, copy, pull];
    expect(sourceTargetOf(copy, all)).toBe(up);
    expect(sourceTargetOf(pull, all)).toBe(up);
    expect(sourceTargetOf(up, all)).toBeUndefined();
    // A web-download region is a source too; another cloud is not.
    const web = t('R1', 'web-download');
    expect(sourceTargetOf(pull, [web, pull])).toBe(web);
    expect(sourceTargetOf(pull, [{ ...up, cloud: 'other' }, pull])).toBeUndefined();
    // A region filled by glance-download can be copied into another store; a copy is no source.
    const copy2 = t('R2', 'copy-image', 'cold');
    expect(sourceTargetOf(copy2, [up, pull, copy2])).toBe(pull);
    expect(sourceTargetOf(copy2, [t('R2', 'copy-image', 'warm'), copy2])).toBeUndefined();
  });

  it('accepts jobs whose targets can all run', () => {
    expect(codeOf(() => validateTargets('a', 'file', [t('R1', 'direct'), t('R2', 'glance-direct')]))).toBeUndefined();
    expect(
      codeOf(() =>
        validateTargets('a', 'file', [t('R1', 'direct'), t('R1', 'copy-image', 'cold'), t('R2', 'glance-download')]),
      ),
    ).toBeUndefined();
    expect(
      codeOf(() => validateTargets('a', 'url', [t('R1', 'web-download'), t('R2', 'glance-download')])),
    ).toBeUndefined();
  });

  it.each([
    ['an unknown method', 'file', [t('R1', 'ftp')]],
    ['a URL sent by PUT', 'url', [t('R1', 'direct')]],
    ['web-download of a local file', 'file', [t('R1', 'web-download')]],
    ['copy-image without a store', 'file', [t('R1', 'direct'), t('R1', 'copy-image')]],
    ['copy-image with no upload to its region', 'file', [t('R2', 'direct'), t('R1', 'copy-image', 'cold')]],
    ['glance-download with no other region', 'file', [t('R1', 'glance-download')]],
  ])('refuses %s with queue.invalid_job', (_what, kind, targets) => {
    expect(codeOf(() => validateTargets('a', kind, targets))).toBe('queue.invalid_job');
  });
});
