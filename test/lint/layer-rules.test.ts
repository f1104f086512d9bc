/**
 * The architecture's layer rules are lint rules: this proves they bite. Each fixture breaks one
 * rule and is linted as if it sat in that layer (ESLint's filePath); a clean control shows the
 * same call reports nothing when the imports are right.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

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
    ['core-imports-electron.ts', 'src/main/core/engine.ts', /engine .* never imports electron/],
    ['core-imports-electron-glue.ts', 'src/main/core/engine.ts', /engine .* never imports electron/],
    ['core-imports-renderer.ts', 'src/main/core/engine.ts', /never imports the preload or the renderer/],
    ['core-imports-electron.ts', 'src/main/runtime-worker.ts', /engine .* never imports electron/],
    ['core-opens-sqlite-directly.ts', 'src/main/core/queue/database.ts', /open SQLite through core\/sqlite/],
    ['renderer-imports-node.ts', 'src/renderer/src/lib/format.ts', /no Node built-ins/],
    ['renderer-imports-fs-bare.ts', 'src/renderer/src/lib/format.ts', /no Node built-ins/],
    ['renderer-imports-electron.ts', 'src/renderer/src/lib/format.ts', /may import electron/],
    ['renderer-imports-main.ts', 'src/renderer/src/lib/format.ts', /may not import from src\/main/],
    ['shared-imports-main.ts', 'src/shared/dto.ts', /may not import from src\/main/],
    ['preload-imports-main.ts', 'src/preload/index.ts', /may not import from src\/main/],
  ])('%s fails lint when placed at %s', async (fixture, asFile, message) => {
    const code = readFileSync(join(import.meta.dirname, 'fixtures', fixture), 'utf8');
    const errors = await layerErrors(code, asFile);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it('reports nothing for the real files (the control)', async () => {
    for (const file of [
      'src/main/core/engine.ts',
      'src/main/core/queue/database.ts',
      'src/main/core/staging/image-store.ts',
      'src/main/core/sqlite/open-sqlite.ts',
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
    const [result] = await eslint.lintText(code, { filePath: join(root, 'src/main/core/engine.ts') });
    expect(result?.errorCount).toBeGreaterThan(0);
    expect(result?.messages.find((m) => m.ruleId === 'no-restricted-imports')?.severity).toBe(2);
  });
});
