/**
 * Whether a region can take a relay (an upload through its object store, resumable at the
 * segment), and what is missing when it cannot: an object store in the catalog, Glance's
 * web-download, a temp-url key this user may use, and a TempURL Glance may fetch (its
 * web-download URL filter). The last two are only known by trying: a probe object of 1 KiB, a
 * TempURL to it, and a web-download of it into a probe image, all deleted afterwards. A region
 * without a relay is a warning, not a failure: the other methods still work.
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from '../clouds/engine';
import { toErrorInfo } from '../io/errors';
import type { GlanceClient } from '../openstack/glance-client';
import { importImage } from '../openstack/glance-data';
import { waitForImage } from '../openstack/glance-wait';
import type { ObjectStoreClient } from '../openstack/object-store-client';
import { RELAY_CONTAINER, urlFilteredError, workingRelayUrl } from '../openstack/relay-url';
import type { DoctorCheck } from './report';

export interface RelayCheckOptions {
  cloud: string;
  region: string;
  /** Try it for real (probe object, TempURL, web-download); false: only what the APIs say. */
  probe: boolean;
  allowAccountKey: boolean;
}

function check(o: RelayCheckOptions, status: DoctorCheck['status'], detail: string, why?: string): DoctorCheck {
  return {
    id: `relay:${o.region}`,
    region: o.region,
    title: `Relay through the object store of ${o.region} (uploads resumable at the segment)`,
    status,
    detail,
    ...(why !== undefined ? { why } : {}),
  };
}

/** The probe: object -> TempURL -> web-download -> active; everything made is deleted. */
async function probeRelay(store: ObjectStoreClient, glance: GlanceClient, o: RelayCheckOptions): Promise<string> {
  const object = `doctor-probe-${randomBytes(6).toString('hex')}`;
  const data = randomBytes(1024);
  let imageId: string | undefined;
  try {
    await store.ensureContainer(RELAY_CONTAINER);
    await store.putObject(
      RELAY_CONTAINER,
      object,
      async function* () {
        yield data;
      },
      data.length,
    );
    const { url, key } = await workingRelayUrl(store, {
      container: RELAY_CONTAINER,
      object,
      allowAccountKey: o.allowAccountKey,
      ttlS: 600,
    });
    const { image } = await glance.createImage({
      name: `glance-uploader-doctor-relay-${object.slice(-12)}`,
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'private',
    });
    imageId = image.id;
    const started = Date.now();
    await importImage(glance, image.id, { method: { name: 'web-download', uri: url } }).catch((e: unknown) => {
      throw urlFilteredError(e, store.origin);
    });
    await waitForImage(glance, image.id, { importStartedAt: started, timeoutMs: 120_000 });
    return `a 1 KiB probe went through ${store.origin} (temp-url key: ${key}) and Glance imported it (web-download).`;
  } finally {
    if (imageId !== undefined) await glance.deleteImage(imageId).catch(() => undefined);
    await store.deleteObject(RELAY_CONTAINER, object).catch(() => undefined);
    await store.deleteContainerIfEmpty(RELAY_CONTAINER).catch(() => undefined);
  }
}

export async function relayCheck(engine: Engine, glance: GlanceClient, o: RelayCheckOptions): Promise<DoctorCheck> {
  const missing: string[] = [];
  if (!(await engine.hasObjectStore(o.cloud, o.region))) missing.push('no object store (object-store) in the catalog');
  if (!(await glance.importMethods()).includes('web-download')) missing.push('Glance does not offer web-download');
  if (missing.length > 0)
    return check(
      o,
      'warn',
      `Not possible: ${missing.join('; ')}.`,
      'Big uploads there cannot resume after a cut: they start again from byte 0. The relay needs an object store and web-download in the region.',
    );
  if (!o.probe) return check(o, 'pass', 'Offered: an object store and web-download (not probed).');
  try {
    return check(o, 'pass', await probeRelay(await engine.objectStore(o.cloud, o.region), glance, o));
  } catch (e) {
    const info = toErrorInfo(e);
    return check(o, 'warn', `${info.message} (${info.code})`, info.hint);
  }
}
