import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../../shared/metadata-profile';
import { emptyFields } from './metadata-validation';
import {
  agreedSuggestion,
  blockingByFile,
  profileBlocker,
  propertyOf,
  setProperty,
  valuesFor,
  type ProfiledFile,
} from './profile-form';

const parsed = parseProfile(
  'team',
  JSON.stringify({
    title: 'Team',
    properties: { os_distro: { enum: ['ubuntu', 'debian'] }, min_disk: { type: 'integer', minimum: 1 } },
    required: ['os_distro', 'min_disk'],
  }),
);
if ('error' in parsed) throw new Error(parsed.error);
const team = parsed.profile;

const file = (name: string, o: Partial<ProfiledFile> = {}): ProfiledFile => ({
  path: `/images/${name}.raw`,
  name,
  minDiskGiB: 3,
  overrides: { name, minRam: '', properties: [] },
  ...o,
});

describe('the upload form under a profile', () => {
  it('checks what each image will be sent with: the template, its overrides, min_disk from its inspection', () => {
    const t = emptyFields();
    setProperty(t, 'os_distro', 'ubuntu');
    const a = file('a');
    const b = file('b', {
      minDiskGiB: null,
      overrides: { name: 'b', minRam: '', properties: [{ key: 'os_distro', value: 'arch' }] },
    });
    expect(valuesFor(t, a)).toEqual({ os_distro: 'ubuntu', min_disk: '3' });
    const problems = blockingByFile(team, t, [a, b]);
    expect(problems.map((p) => [p.file.name, p.findings.map((f) => f.key)])).toEqual([
      ['b', ['min_disk', 'os_distro']],
    ]);
    expect(profileBlocker(team, problems)).toBe('Team needs min_disk, os_distro (1 image).');
    expect(profileBlocker(team, [])).toBeUndefined();
  });

  it('sets and clears a template property in place, and offers a suggestion only when the images agree', () => {
    const t = emptyFields();
    setProperty(t, 'architecture', 'x86_64');
    setProperty(t, 'architecture', 'aarch64');
    expect(t.properties).toEqual([{ key: 'architecture', value: 'aarch64' }]);
    setProperty(t, 'architecture', '');
    expect(propertyOf(t, 'architecture')).toBe('');
    const s = (v: string): ProfiledFile['suggested'] => ({ architecture: { value: v, from: 'the file name' } });
    expect(agreedSuggestion([file('a', { suggested: s('x86_64') }), file('b')], 'architecture')?.value).toBe('x86_64');
    expect(
      agreedSuggestion([file('a', { suggested: s('x86_64') }), file('b', { suggested: s('aarch64') })], 'architecture'),
    ).toBeUndefined();
  });
});
