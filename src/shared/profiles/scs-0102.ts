/**
 * The Sovereign Cloud Stack's image metadata standard, SCS-0102 v1 (version 1.1, stable):
 * https://docs.scs.community/standards/scs-0102-v1-image-metadata. The values allowed are those
 * its conformance checker (Tests/iaas/scs_0102_image_metadata/image_metadata.py) accepts, where
 * it is stricter than the prose (architecture, hw_disk_bus); licensing properties, mandatory
 * only in some cases, are left to the user.
 */
import type { MetadataProfile } from '../metadata-profile';

/** A date as the SCS checker reads one: YYYY-MM-DD, optionally with a time. */
const DAY = '\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2})?Z?)?';
const VALIDITY = `none|notice|forever|last-\\d+|${DAY}`;

export const SCS_0102: MetadataProfile = {
  id: 'scs-0102-v1',
  title: 'SCS-0102 v1 (Sovereign Cloud Stack image metadata)',
  description: 'What public images must carry in an SCS-compliant cloud.',
  source: 'builtin',
  properties: {
    architecture: { type: 'string', enum: ['x86_64', 'aarch64', 'risc-v'], description: 'The CPU architecture.' },
    min_disk: { type: 'integer', minimum: 1, description: 'GiB; at least the image’s virtual size.' },
    min_ram: { type: 'integer', minimum: 0, description: 'MiB the VM needs to boot and survive (64 or more).' },
    os_distro: {
      type: 'string',
      examples: ['ubuntu'],
      description: 'As OpenStack names it: ubuntu, debian, fedora...',
    },
    os_version: { type: 'string', examples: ['24.04'], description: 'Numeric where the distribution numbers it.' },
    hw_disk_bus: { type: 'string', enum: ['virtio', 'scsi'], description: 'scsi recommended (then hw_scsi_model).' },
    hw_scsi_model: { type: 'string', enum: ['virtio-scsi', 'lsilogic', 'lsisas1068', 'buslogic', 'vmpvscsi'] },
    image_build_date: { type: 'string', format: 'date', examples: ['2026-12-01'], description: 'UTC.' },
    image_original_user: { type: 'string', examples: ['ubuntu'], description: 'The default login user, or none.' },
    image_source: {
      type: 'string',
      pattern: 'private|(https?|ftps?)://.+',
      examples: ['https://cloud-images.ubuntu.com/'],
      description: 'Where the image came from (a URL), or private.',
    },
    image_description: { type: 'string', description: 'Release notes: a URL or text.' },
    replace_frequency: {
      type: 'string',
      enum: ['yearly', 'quarterly', 'monthly', 'weekly', 'daily', 'critical_bug', 'never'],
    },
    provided_until: { type: 'string', pattern: `none|notice|${DAY}`, examples: ['2027-12-31'] },
    uuid_validity: { type: 'string', pattern: VALIDITY, examples: ['last-3'] },
    hotfix_hours: { type: 'integer', minimum: 0 },
    hypervisor_type: { type: 'string', enum: ['qemu', 'kvm', 'xen', 'hyper-v', 'esxi'] },
    hw_rng_model: { type: 'string', enum: ['virtio'] },
    hw_firmware_type: { type: 'string', enum: ['bios', 'uefi'] },
    os_secure_boot: { type: 'string', enum: ['required', 'disabled', 'optional'] },
    hw_watchdog_action: { type: 'string', enum: ['disabled', 'reset', 'poweroff', 'pause', 'none'] },
    os_purpose: { type: 'string', enum: ['generic', 'minimal', 'k8snode', 'gpu', 'network', 'custom'] },
    os_hash_algo: { type: 'string', enum: ['sha256', 'sha512'] },
    license_included: { type: 'boolean' },
    license_required: { type: 'boolean' },
    patchlevel: { type: 'string' },
    maintained_until: { type: 'string', format: 'date' },
  },
  required: [
    'architecture',
    'min_disk',
    'min_ram',
    'os_distro',
    'os_version',
    'hw_disk_bus',
    'image_build_date',
    'image_original_user',
    'image_source',
    'image_description',
    'replace_frequency',
    'provided_until',
    'uuid_validity',
  ],
  recommended: ['hypervisor_type', 'hw_rng_model', 'hw_firmware_type', 'hw_scsi_model', 'os_purpose', 'hotfix_hours'],
};

/** The profiles shipped with the app. */
export const BUILTIN_PROFILES: readonly MetadataProfile[] = [SCS_0102];
