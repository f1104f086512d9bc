/**
 * The differential suite: the embedded server against the reference Glance 25, configured the
 * same way (stores fast and cold, the same import methods, web-download from loopback), through
 * the three real clients (openstacksdk, the `openstack` CLI, the `glance` CLI), as member, as
 * admin and as a second project. One Python driver per side runs every scenario
 * (test/support/glance_diff_*.py); a recording proxy in front of each Glance keeps what the
 * clients sent and got. Each `it` compares one scenario's normalised transcripts whole: every
 * request (method, path and query, status, content type, import/store/range headers, both
 * bodies) and every client outcome (exit code and output of a CLI; result, or exception class,
 * status and message of the SDK). Known differences: known-differences.ts, and README.md.
 *
 * How these fail: any change to what the server answers that Glance does not answer the same way
 * fails the scenarios that see it: a header, a status, a field of a JSON document, an error text
 * a CLI prints. Tried by hand: with `; charset=UTF-8` added to the JSON content type (http-kit
 * `send`, as the server had it before), scenarios such as info.import-sdk and list.sdk-paging fail
 * on `contentType`; with the publicize_image check taken out of image-access.ts
 * (mayChangeVisibility), visibility.public-member fails (a member's public image is made, 201).
 * Run twice against the same reference (two drivers, two tags), the transcripts are equal:
 * nothing left unnormalised varies by itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StagingServer } from '../../src/main/core/local-glance/server';
import { KNOWN_DIFFERENCES } from '../differential/known-differences';
import { localSpec, referenceSpec, startLocalServer, symbolsOf } from '../differential/side-specs';
import { loadCatalogue, runSide, startDataServer, type CatalogueEntry, type SideRun } from '../differential/sides';
import { normalise, transcriptOf, type Transcript } from '../differential/transcript';

const ref = inject('referenceCloud');
const catalogue = loadCatalogue();

/** Image data both sides get: deterministic, not all one byte (ranges and digests mean something). */
function imageData(): Buffer {
  const b = Buffer.alloc(3 * 65536 + 123);
  for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
}

let dir: string;
let server: StagingServer | undefined;
let runs: { reference: SideRun; local: SideRun } | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-differential-'));
  const data = imageData();
  const dataFile = join(dir, 'image.raw');
  writeFileSync(dataFile, data);
  const web = await startDataServer(data);
  try {
    server = await startLocalServer(dir);
    const input = { tag: `gu-diff-${randomBytes(4).toString('hex')}`, dataFile, webUrl: web.url, workDir: dir };
    const [reference, local] = await Promise.all([
      runSide(referenceSpec(ref), input),
      runSide(localSpec(server), input),
    ]);
    runs = { reference, local };
    console.log(
      `[differential] ${catalogue.length} scenarios: reference ${(reference.ms / 1000).toFixed(1)} s, ` +
        `local ${(local.ms / 1000).toFixed(1)} s`,
    );
  } finally {
    await web.close();
  }
}, 290_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** GLANCE_DIFF_DUMP=<dir>: also write both normalised transcripts of each scenario there, to diff by hand. */
const DUMP = process.env.GLANCE_DIFF_DUMP;

function sides(id: string): { reference: Transcript; local: Transcript } {
  if (runs === undefined) throw new Error('the drivers did not run (see beforeAll)');
  const t = {
    reference: normalise(transcriptOf(runs.reference, id), symbolsOf(runs.reference)),
    local: normalise(transcriptOf(runs.local, id), symbolsOf(runs.local)),
  };
  if (DUMP !== undefined && DUMP !== '') {
    mkdirSync(DUMP, { recursive: true });
    for (const side of ['reference', 'local'] as const)
      writeFileSync(join(DUMP, `${id}.${side}.json`), `${JSON.stringify(t[side], null, 2)}\n`);
  }
  return t;
}

function title(s: CatalogueEntry): string {
  const known = KNOWN_DIFFERENCES.get(s.id) ?? [];
  const base = `${s.id} [${s.client}, ${s.role}]: ${s.title}`;
  return known.length === 0 ? base : `${base} (known difference: ${known.map((k) => k.name).join('; ')})`;
}

describe('the embedded server answers the real clients as Glance 25 does', () => {
  it('runs at least 50 scenarios, through the three clients, as member and as admin', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(50);
    expect(new Set(catalogue.map((s) => s.client))).toEqual(new Set(['sdk', 'openstack', 'glance']));
    expect(new Set(catalogue.map((s) => s.role))).toEqual(new Set(['member', 'admin', 'second']));
    for (const id of KNOWN_DIFFERENCES.keys()) expect(catalogue.map((s) => s.id)).toContain(id);
  });

  for (const s of catalogue)
    it(title(s), () => {
      const { reference, local } = sides(s.id);
      // The reference run is the oracle: a scenario the reference cannot run is the suite's bug.
      expect(reference.stopped ?? reference.driverError, 'the reference side of this scenario').toBeNull();
      if (local.stopped !== null) throw new Error(`the local side could not run this scenario: ${local.stopped}`);
      // Each known difference named in the title must occur here (the list stays honest), and
      // nothing else may differ.
      let expected = reference;
      for (const known of KNOWN_DIFFERENCES.get(s.id) ?? []) {
        const next = known.expect(expected);
        expect(next, `known difference "${known.name}" does not occur in ${s.id}`).not.toEqual(expected);
        expected = next;
      }
      expect(local, 'the embedded server (+ Received) against Glance 25 (- Expected)').toEqual(expected);
    });
});
