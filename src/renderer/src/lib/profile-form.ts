/**
 * The upload form under a metadata profile: the values each image will be sent with (the
 * template, the file's overrides, min_disk from its inspection as the engine completes it), the
 * profile's findings per image, reading and writing one property of the template, and the
 * values the inspection suggests for a property. Pure: the form and its tests call it.
 */
import type { Suggestion } from '../../../shared/dto';
import {
  blocking,
  checkProfile,
  profileValues,
  type MetadataProfile,
  type ProfileFinding,
} from '../../../shared/metadata-profile';
import type { MetadataFields } from './metadata-validation';

export interface ProfiledFile {
  path: string;
  name: string;
  minDiskGiB: number | null;
  suggested?: Record<string, Suggestion>;
  overrides: { name: string; minRam: string; properties: { key: string; value: string }[] };
}

/** The values an image will carry, as Glance keeps them: the metadata the engine will send, read as it reads it. */
export function valuesFor(template: MetadataFields, f: ProfiledFile): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const p of [...template.properties, ...f.overrides.properties])
    if (p.key.trim() !== '') properties[p.key.trim()] = p.value;
  const minDisk = template.minDisk.trim() !== '' ? template.minDisk.trim() : (f.minDiskGiB ?? '').toString();
  const minRam = (f.overrides.minRam.trim() !== '' ? f.overrides.minRam : template.minRam).trim();
  return profileValues({
    properties,
    ...(minDisk !== '' ? { min_disk: minDisk } : {}),
    ...(minRam !== '' ? { min_ram: minRam } : {}),
    ...(template.diskFormat !== '' ? { disk_format: template.diskFormat } : {}),
  });
}

/** Each image's findings that refuse queuing under the profile (none: it may go). */
export function blockingByFile(
  profile: MetadataProfile,
  template: MetadataFields,
  files: readonly ProfiledFile[],
): { file: ProfiledFile; findings: ProfileFinding[] }[] {
  return files
    .map((file) => ({ file, findings: blocking(checkProfile(profile, valuesFor(template, file))) }))
    .filter((x) => x.findings.length > 0);
}

/** One line for the form's status: what keeps the batch out of the queue. */
export function profileBlocker(
  profile: MetadataProfile,
  problems: ReturnType<typeof blockingByFile>,
): string | undefined {
  const first = problems[0];
  if (first === undefined) return undefined;
  const keys = [...new Set(problems.flatMap((p) => p.findings.map((f) => f.key)))];
  return `${profile.title} needs ${keys.join(', ')} (${problems.length} image${problems.length === 1 ? '' : 's'}).`;
}

/** The template's value of a property ('' when unset). */
export function propertyOf(fields: MetadataFields, key: string): string {
  return fields.properties.find((p) => p.key.trim() === key)?.value ?? '';
}

/** Sets (or, with '', removes) a property of the template in place: the form's fields are $state. */
export function setProperty(fields: MetadataFields, key: string, value: string): void {
  const i = fields.properties.findIndex((p) => p.key.trim() === key);
  if (value === '') {
    if (i >= 0) fields.properties.splice(i, 1);
  } else if (i >= 0) fields.properties[i] = { key, value };
  else fields.properties.push({ key, value });
}

/** The value the inspection suggests for a property, when every image that says one agrees. */
export function agreedSuggestion(files: readonly ProfiledFile[], key: string): Suggestion | undefined {
  const said = files.map((f) => f.suggested?.[key]).filter((s): s is Suggestion => s !== undefined);
  const first = said[0];
  return first !== undefined && said.every((s) => s.value === first.value) ? first : undefined;
}
