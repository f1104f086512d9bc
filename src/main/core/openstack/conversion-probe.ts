/**
 * Does this region convert what an import brings? Glance's image_conversion plugin converts an
 * image imported by glance-direct, web-download or glance-download to its output_format (raw,
 * for a Ceph-backed cloud); a PUT /file is never converted, and `/v2/info/import` does not say
 * whether the plugin is on. So the only way to know is to try: a 1 MiB empty qcow2 (about 200 KiB)
 * is staged and imported with glance-direct, the format Glance stored is read, and the probe image
 * is deleted, whatever happened. Where Glance tells (an admin of a multi-store site), the types of
 * its stores come with the answer: a Ceph (rbd) store is where qcow2 costs most.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../io/errors';
import { createQcow2 } from '../io/qemu-img';
import type { ConversionFact } from '../../../shared/dto';
import type { GlanceClient } from './glance-client';
import { fileSource, importImage, stageImageData } from './glance-data';
import { waitForImage } from './glance-wait';

const PROBE_VIRTUAL_SIZE = 1024 * 1024;

export async function probeConversion(glance: GlanceClient, region: string): Promise<ConversionFact> {
  const offered = await glance.importMethods();
  if (!offered.includes('glance-direct'))
    throw new EngineError(
      'glance.method_not_offered',
      `${region} does not offer glance-direct, so whether its imports convert cannot be probed.`,
      { hint: 'Uploads there go with PUT /file (never converted), or through web-download or the relay.' },
    );
  const dir = await mkdtemp(join(tmpdir(), 'glance-uploader-probe-'));
  let imageId: string | undefined;
  try {
    const file = join(dir, 'probe.qcow2');
    await createQcow2(file, PROBE_VIRTUAL_SIZE);
    const { image } = await glance.createImage({
      name: `glance-uploader-conversion-probe-${Date.now().toString(36)}`,
      disk_format: 'qcow2',
      container_format: 'bare',
      visibility: 'private',
    });
    imageId = image.id;
    await stageImageData(glance, image.id, fileSource(file, (await stat(file)).size));
    const started = Date.now();
    await importImage(glance, image.id, { method: { name: 'glance-direct' } });
    const done = await waitForImage(glance, image.id, { importStartedAt: started, timeoutMs: 120_000 });
    const storedFormat = done.disk_format ?? 'qcow2';
    const storeTypes = await glance.storeTypes().catch(() => undefined); // a fact worth having, not worth failing for
    return {
      converts: storedFormat !== 'qcow2',
      storedFormat,
      via: 'glance-direct',
      ...(storeTypes !== undefined ? { storeTypes } : {}),
    };
  } finally {
    if (imageId !== undefined) await glance.deleteImage(imageId).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
