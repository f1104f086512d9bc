/**
 * Where the embedded server differs from Glance 25 on purpose, scenario by scenario, with the
 * reason (the same list is in README.md, "Where the embedded server differs from Glance 25").
 * A scenario with a known difference still runs: `expect` turns the reference's normalised
 * transcript into what the embedded server is meant to answer, by removing that difference
 * only, and everything else must match. A difference that comes from the server being wrong does
 * not belong here: it fails, for the server to be fixed.
 */
import type { Transcript } from './transcript';

export interface KnownDifference {
  name: string;
  reason: string;
  /** The reference's transcript as the embedded server should answer it. */
  expect: (reference: Transcript) => Transcript;
}

const GLANCE_DOWNLOAD = 'glance-download';

/** Drop glance-download wherever a transcript lists the import methods: JSON arrays, headers, CLI output. */
function withoutGlanceDownload(value: unknown): unknown {
  if (typeof value === 'string')
    return value
      .replace(/, 'glance-download'/g, '')
      .replace(/,\s*"glance-download"/g, '')
      .replace(/,glance-download/g, '');
  if (Array.isArray(value)) return value.filter((v) => v !== GLANCE_DOWNLOAD).map(withoutGlanceDownload);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutGlanceDownload(v)]));
  return value;
}

const glanceDownload: KnownDifference = {
  name: 'no glance-download import method',
  reason:
    'glance-download copies an image from the Glance of another region of the same Keystone; the ' +
    'embedded server is one region on its own, with no other Glance to download from, so it does ' +
    'not offer the method (GET /v2/info/import and the OpenStack-image-import-methods header list ' +
    'the other three)',
  expect: (t) => withoutGlanceDownload(t) as Transcript,
};

/** Rewrite every string of a transcript (JSON values, headers, CLI output). */
function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

const RESERVED_STORES = ',os_glance_staging_store,os_glance_tasks_store';

const storeIdsHeader: KnownDifference = {
  name: 'the OpenStack-image-store-ids header lists the configured stores only',
  reason:
    'Glance 25 answers a create with ",".join(enabled_backends); once its worker has used the store ' +
    'layer (a stage, an upload, a delete...), glance_store has added its reserved stores ' +
    '(os_glance_staging_store, os_glance_tasks_store) to that cached configuration, and the header ' +
    'lists them from then on, though no client can use them; the embedded server always lists the ' +
    'stores it was configured with',
  expect: (t) =>
    mapStrings(t, (v) => (v.endsWith(RESERVED_STORES) ? v.slice(0, -RESERVED_STORES.length) : v)) as Transcript,
};

const GLANCE_500 = [
  '500 Internal Server Error',
  'The server has either erred or is incapable of performing the requested operation.',
];
const OUR_400 = ['400 Bad Request', 'Request body must be a JSON object.'];

/** The create whose body is a JSON list: Glance's 500 page and status, as the server's 400. */
function listBodyAnswered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(listBodyAnswered);
  if (value === null || typeof value !== 'object') return value;
  const o = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, listBodyAnswered(v)]));
  const page = JSON.stringify(o.body ?? null);
  if (o.status === 500 && page.includes(GLANCE_500[1] ?? '')) {
    o.status = 400;
    o.body = JSON.parse(
      page.replaceAll(GLANCE_500[0] ?? '', OUR_400[0] ?? '').replaceAll(GLANCE_500[1] ?? '', OUR_400[1] ?? ''),
    );
  }
  return o;
}

const listAsImage: KnownDifference = {
  name: 'a JSON list as the new image is a 400, not a 500',
  reason:
    "POST /v2/images with a JSON list for a body: Glance 25's deserializer takes the list for an " +
    'object and fails with an internal error (500); the embedded server answers 400 "Request body ' +
    'must be a JSON object."',
  expect: (t) => listBodyAnswered(t) as Transcript,
};

/**
 * The scenarios whose reference transcript lists the import methods: /v2/info/import, and the
 * OpenStack-image-import-methods header Glance adds to every POST /v2/images answer.
 */
const LISTS_IMPORT_METHODS = [
  'info.import-sdk',
  'info.import-glance',
  'images.create-osc',
  'images.create-sdk',
  'images.create-glance',
  'images.create-admin-osc',
  'data.osc-upload-save',
  'data.glance-upload-download',
  'import.copy-image-member',
  'list.fixtures',
  'visibility.public-admin',
];

/**
 * The scenarios whose creates record the store-ids header (the reference's worker has used its
 * stores by then): those of the list above that create an image.
 */
const LISTS_STORE_IDS = LISTS_IMPORT_METHODS.filter(
  (id) => !['info.import-sdk', 'info.import-glance', 'import.copy-image-member'].includes(id),
);

const BY_DIFFERENCE: [KnownDifference, string[]][] = [
  [glanceDownload, LISTS_IMPORT_METHODS],
  [storeIdsHeader, LISTS_STORE_IDS],
  [listAsImage, ['errors.bad-requests']],
];

/** Scenario id -> the known differences it shows (the suite checks each one does occur there). */
export const KNOWN_DIFFERENCES: ReadonlyMap<string, KnownDifference[]> = new Map(
  [...new Set(BY_DIFFERENCE.flatMap(([, ids]) => ids))].map((id) => [
    id,
    BY_DIFFERENCE.filter(([, ids]) => ids.includes(id)).map(([d]) => d),
  ]),
);
