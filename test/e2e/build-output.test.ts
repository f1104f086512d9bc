/** What `npm run build` produced must be loadable where it runs: the sandboxed preload above all. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const out = join(import.meta.dirname, '..', '..', 'out');

describe('build output', () => {
  it('the preload is CommonJS and requires nothing but electron (a sandboxed preload cannot)', () => {
    const code = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8');
    const required = [...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(code).not.toMatch(/\bimport\s*\(/);
  });

  it('the main bundle leaves the native better-sqlite3 external and never inlines zod into the renderer', () => {
    const main = readFileSync(join(out, 'main', 'index.js'), 'utf8');
    expect(main).not.toContain('node_modules/better-sqlite3');
    const assets = readdirSync(join(out, 'renderer', 'assets')).filter((f) => f.endsWith('.js'));
    for (const f of assets) expect(readFileSync(join(out, 'renderer', 'assets', f), 'utf8')).not.toMatch(/ZodError/);
  });

  it('the engine worker never imports electron, and the main thread never loads the database module', () => {
    const imports = (file: string): string[] =>
      [...readFileSync(join(out, 'main', file), 'utf8').matchAll(/^import[^;]*from\s*"([^"]+)";/gm)].map(
        (m) => m[1] ?? '',
      );
    const worker = imports('runtime-worker.js');
    const chunks = worker.filter((m) => m.startsWith('./')).map((m) => m.slice(2));
    for (const f of ['runtime-worker.js', ...chunks]) expect(imports(f)).not.toContain('electron');
    expect(worker).toContain('better-sqlite3');
    const main = imports('index.js');
    expect(main).toContain('electron');
    for (const f of [...main.filter((m) => m.startsWith('./')).map((m) => m.slice(2))])
      expect(imports(f)).not.toContain('better-sqlite3');
    expect(main).not.toContain('better-sqlite3');
  });

  it('the renderer page carries a CSP that forbids inline and foreign scripts, with relative asset URLs', () => {
    const html = readFileSync(join(out, 'renderer', 'index.html'), 'utf8');
    expect(html).toMatch(/Content-Security-Policy/);
    expect(html).toContain("script-src 'self'");
    expect(html).toMatch(/src="\.\/assets\//);
  });
});
