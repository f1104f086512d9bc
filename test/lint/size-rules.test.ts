/**
 * The size rules are lint errors: a file over 400 lines, a function over 80 or with a complexity
 * over 20 fails `npm run lint` (STYLE.md habit 11). Fails if a rule is dropped, turned into a
 * warning, or its limit raised for the whole source tree instead of one named file.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let eslint: ESLint;

async function errors(code: string, asFile: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, asFile) });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId ?? '');
}

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

describe('size rules', () => {
  it('refuses a file over 400 lines', async () => {
    const code = Array.from({ length: 401 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
    expect(await errors(code, 'src/main/core/io/data-home.ts')).toContain('max-lines');
  });

  it('refuses a function over 80 lines, and one with a complexity over 20', async () => {
    const long = `export function f(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(80)}  return n;\n}\n`;
    expect(await errors(long, 'src/main/core/io/data-home.ts')).toContain('max-lines-per-function');
    const branches = Array.from({ length: 21 }, (_, i) => `  if (x === ${i}) return ${i};`).join('\n');
    const complex = `export function g(x: number): number {\n${branches}\n  return -1;\n}\n`;
    expect(await errors(complex, 'src/main/core/io/data-home.ts')).toContain('complexity');
  });

  it('holds the renderer’s components too', async () => {
    const markup = `<script lang="ts">\n  let n = $state(0);\n</script>\n\n${'<p>{n}</p>\n'.repeat(400)}`;
    expect(await errors(markup, 'src/renderer/src/components/DoctorPanel.svelte')).toContain('max-lines');
  });
});
