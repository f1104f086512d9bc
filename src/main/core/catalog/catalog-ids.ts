/**
 * The id of the catalog's image for one version in one region: a UUID (version 5, RFC 9562)
 * of what the image is (catalog, family, version, cloud, region, generation), the same on every
 * machine. Two machines applying the catalog at once both create it with that id; Glance answers
 * the second with 409, which is the lock: there is never a duplicate to clean up. Glance never
 * gives the id of a deleted image again, so a version made again after a delete takes the next
 * `generation`.
 */
import { createHash } from 'node:crypto';

/** Our namespace (a random UUID chosen once): ids of other tools' v5 UUIDs never collide with ours. */
const NAMESPACE = Buffer.from('6f1b2c9e4d7a4e3f8a5b0c1d2e3f4a5b', 'hex');

export function uuidV5(name: string, namespace: Buffer = NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface ImageKey {
  catalog: string;
  family: string;
  version: string;
  cloud: string;
  region: string;
  generation?: number;
}

/** The image id of (catalog, family, version, cloud, region[, generation]). */
export function catalogImageId(k: ImageKey): string {
  const parts = [k.catalog, k.family, k.version, k.cloud, k.region];
  if (k.generation !== undefined && k.generation > 0) parts.push(String(k.generation));
  return uuidV5(parts.join('\u0000'));
}
