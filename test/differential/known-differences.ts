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

const NON_ASCII_TAG = 'ünïcödé';
/** What Glance stores for it: the UTF-8 bytes of the URL path read as Latin-1. */
const MISREAD_TAG = Buffer.from(NON_ASCII_TAG, 'utf8').toString('latin1');

function withTagReadAsUtf8(value: unknown): unknown {
  if (typeof value === 'string') return value.split(MISREAD_TAG).join(NON_ASCII_TAG);
  if (Array.isArray(value)) return value.map(withTagReadAsUtf8);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withTagReadAsUtf8(v)]));
  return value;
}

const tagPathEncoding: KnownDifference = {
  name: 'a non-ASCII tag in the URL path is read as UTF-8',
  reason:
    'PUT /v2/images/{id}/tags/%C3%BC... : Glance 25 takes the percent-decoded bytes of the path as ' +
    'Latin-1 (the WSGI string) and stores "Ã¼..." (mojibake), which no client meant; the embedded ' +
    'server decodes the path as UTF-8 (RFC 3986) and stores the tag that was sent',
  expect: (t) => withTagReadAsUtf8(t) as Transcript,
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

export const KNOWN_DIFFERENCES: ReadonlyMap<string, KnownDifference> = new Map([
  ...LISTS_IMPORT_METHODS.map((id): [string, KnownDifference] => [id, glanceDownload]),
  ['tags.non-ascii', tagPathEncoding],
]);
