/**
 * Metadata profiles on this machine: the shipped ones (SCS-0102) and the user's JSON Schema files
 * in the data folder's `profiles/` (one file per profile, its name the id). A profile chosen for
 * an upload is checked here, on the metadata each job will send, before anything is queued:
 * the form checks as the user types, this is the rule that holds whoever calls.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blocking,
  checkProfile,
  parseProfile,
  profileValues,
  type MetadataProfile,
} from '../../../shared/metadata-profile';
import { BUILTIN_PROFILES } from '../../../shared/profiles/scs-0102';
import { EngineError } from '../io/errors';
import type { NewJob } from '../queue/job-types';

export const profilesDir = (dataFolder: string): string => join(dataFolder, 'profiles');

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ProfileList {
  profiles: MetadataProfile[];
  /** User files that are not profiles, with why: listed, never used. */
  problems: { file: string; error: string }[];
}

export function loadProfiles(dataFolder: string): ProfileList {
  const out: ProfileList = { profiles: [...BUILTIN_PROFILES], problems: [] };
  let files: string[];
  try {
    files = readdirSync(profilesDir(dataFolder)).filter((f) => f.endsWith('.json'));
  } catch {
    return out; // no folder yet: the shipped ones
  }
  for (const file of files.sort()) {
    const id = file.slice(0, -'.json'.length);
    const r = parseProfile(id, readFileSync(join(profilesDir(dataFolder), file), 'utf8'));
    if ('error' in r) out.problems.push({ file, error: r.error });
    else if (out.profiles.some((p) => p.id === id))
      out.problems.push({ file, error: `${id} is a shipped profile's id` });
    else out.profiles.push(r.profile);
  }
  return out;
}

export function findProfile(dataFolder: string, id: string): MetadataProfile {
  const { profiles } = loadProfiles(dataFolder);
  const p = profiles.find((x) => x.id === id);
  if (p === undefined)
    throw new EngineError('metadata.profile_unknown', `No metadata profile "${id}".`, {
      hint: `Known: ${profiles.map((x) => x.id).join(', ')}. Add yours as ${profilesDir(dataFolder)}/<id>.json.`,
    });
  return p;
}

/** A user's profile, checked, then written (atomically) as profiles/<id>.json. */
export function saveProfile(dataFolder: string, id: string, text: string): MetadataProfile {
  if (!ID.test(id) || BUILTIN_PROFILES.some((p) => p.id === id))
    throw new EngineError('metadata.profile_invalid', `"${id}" cannot name a profile.`, {
      hint: 'Letters, digits, dot, dash and underscore, not the id of a shipped profile.',
    });
  const r = parseProfile(id, text);
  if ('error' in r)
    throw new EngineError('metadata.profile_invalid', `The profile ${id} is not usable: ${r.error}.`, {
      hint: 'A JSON Schema object: properties (type, enum, pattern, format: date), required, x-recommended.',
    });
  const dir = profilesDir(dataFolder);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${id}.json.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, `${id}.json`));
  return r.profile;
}

/** Refuses the whole batch when an image lacks what the profile requires: every problem named. */
export function enforceProfile(profile: MetadataProfile, jobs: readonly NewJob[]): void {
  const unmet = jobs.flatMap((j) =>
    blocking(checkProfile(profile, profileValues(j.metadata ?? {}))).map((f) => `${j.name}: ${f.message}`),
  );
  if (unmet.length > 0)
    throw new EngineError(
      'metadata.profile_unmet',
      `${unmet.length} problem(s) with ${profile.title}; nothing was queued:\n${unmet.join('\n')}`,
      { hint: 'Set the properties named (the form suggests values it could read from the files).' },
    );
}
