/**
 * The architecture's layer rules are lint rules: this proves they bite. Each fixture breaks one
 * rule and is linted as if it sat in that layer (ESLint's filePath); a clean control shows the
 * same call reports nothing when the imports are right.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_ORDER } from '../../eslint.config.js';

const root = join(import.meta.dirname, '..', '..');
let eslint: ESLint;

async function layerErrors(code: string, asFile: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, asFile) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

describe('layer rules', () => {
  it.each([
    ['core-imports-electron.ts', 'src/main/core/clouds/engine.ts', /engine .* never imports electron/],
    ['core-imports-electron-glue.ts', 'src/main/core/clouds/engine.ts', /engine .* never imports electron/],
    ['core-imports-renderer.ts', 'src/main/core/clouds/engine.ts', /never imports the preload or the renderer/],
    ['core-imports-electron.ts', 'src/main/runtime-worker.ts', /engine .* never imports electron/],
    ['core-opens-sqlite-directly.ts', 'src/main/core/queue/database.ts', /open SQLite through core\/sqlite/],
    ['renderer-imports-node.ts', 'src/renderer/src/lib/format.ts', /no Node built-ins/],
    ['renderer-imports-fs-bare.ts', 'src/renderer/src/lib/format.ts', /no Node built-ins/],
    ['renderer-imports-electron.ts', 'src/renderer/src/lib/format.ts', /may import electron/],
    ['renderer-imports-main.ts', 'src/renderer/src/lib/format.ts', /may not import from src\/main/],
    ['shared-imports-main.ts', 'src/shared/dto.ts', /may not import from src\/main/],
    ['preload-imports-main.ts', 'src/preload/index.ts', /may not import from src\/main/],
    // The order of the engine's folders (CORE_ORDER): one fixture per folder, each the edge a
    // folder must not take (several are the cycles the re-cut removed).
    ['io-imports-transfer.ts', 'src/main/core/io/hasher.ts', /core\/io may import only nothing else/],
    ['sqlite-imports-queue.ts', 'src/main/core/sqlite/open-sqlite.ts', /core\/sqlite may import only core\/io \(/],
    ['inspect-imports-openstack.ts', 'src/main/core/inspect/inspect.ts', /core\/inspect may import only core\/io \(/],
    [
      'local-glance-imports-transfer.ts',
      'src/main/core/local-glance/images-api.ts',
      /core\/local-glance may import only/,
    ],
    ['openstack-imports-queue.ts', 'src/main/core/openstack/glance-client.ts', /core\/openstack may import only/],
    ['queue-imports-planning.ts', 'src/main/core/queue/settings.ts', /core\/queue may import only/],
    ['clouds-imports-distribution.ts', 'src/main/core/clouds/engine.ts', /core\/clouds may import only/],
    ['planning-imports-transfer.ts', 'src/main/core/planning/upload-plan.ts', /core\/planning may import only/],
    ['transfer-imports-distribution.ts', 'src/main/core/transfer/scheduler.ts', /core\/transfer may import only/],
    [
      'distribution-imports-transfer.ts',
      'src/main/core/distribution/sync-jobs.ts',
      /core\/distribution may import only/,
    ],
    ['doctor-imports-transfer.ts', 'src/main/core/doctor/doctor.ts', /core\/doctor may import only/],
    ['app-imports-cli.ts', 'src/main/core/app/api/api-service.ts', /core\/app may import only/],
    ['cli-imports-app.ts', 'src/main/core/cli/cli.ts', /core\/cli may import only/],
  ])('%s fails lint when placed at %s', async (fixture, asFile, message) => {
    const code = readFileSync(join(import.meta.dirname, 'fixtures', fixture), 'utf8');
    const errors = await layerErrors(code, asFile);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it('reports nothing for the real files (the control)', async () => {
    for (const file of [
      'src/main/core/clouds/engine.ts',
      'src/main/core/queue/database.ts',
      'src/main/core/local-glance/image-store.ts',
      'src/main/core/sqlite/open-sqlite.ts',
      'src/main/core/io/hasher.ts',
      'src/main/core/inspect/inspect.ts',
      'src/main/core/local-glance/images-api.ts',
      'src/main/core/openstack/glance-client.ts',
      'src/main/core/queue/settings.ts',
      'src/main/core/planning/upload-plan.ts',
      'src/main/core/transfer/scheduler.ts',
      'src/main/core/distribution/sync-jobs.ts',
      'src/main/core/doctor/doctor.ts',
      'src/main/core/app/api/api-service.ts',
      'src/main/core/cli/cli.ts',
      'src/main/runtime-worker.ts',
      'src/renderer/src/lib/format.ts',
      'src/shared/dto.ts',
      'src/preload/index.ts',
    ]) {
      expect(await layerErrors(readFileSync(join(root, file), 'utf8'), file)).toEqual([]);
    }
  });

  it('makes `npm run lint` fail: the rule is an error, not a warning', async () => {
    const code = readFileSync(join(import.meta.dirname, 'fixtures', 'core-imports-electron.ts'), 'utf8');
    const [result] = await eslint.lintText(code, { filePath: join(root, 'src/main/core/clouds/engine.ts') });
    expect(result?.errorCount).toBeGreaterThan(0);
    expect(result?.messages.find((m) => m.ruleId === 'no-restricted-imports')?.severity).toBe(2);
  });

  // Fails when a folder is added to the engine without a place in the order (its files would
  // escape every folder rule), or when a folder is allowed one listed after it (a cycle could form).
  it('places every folder of the engine in CORE_ORDER, each allowed only folders before it', () => {
    const folders = readdirSync(join(root, 'src/main/core'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(Object.keys(CORE_ORDER).sort()).toEqual(folders.sort());
    const order = Object.keys(CORE_ORDER);
    for (const [folder, allowed] of Object.entries(CORE_ORDER))
      for (const below of allowed)
        expect([folder, below, order.indexOf(below) < order.indexOf(folder)]).toEqual([folder, below, true]);
  });
});
