/**
 * The Node.js each command needs is said in four places that must agree: package.json's
 * `engines` (the tests, the CLI), what Electron's package declares (npm start, npm run dist,
 * checked by scripts/start.ts from that same field), the README's Requirements, and .ci/run's
 * check (which reads `engines`). Fails when: Electron is upgraded to one that needs another
 * Node.js and the README still says 22.12, or `engines` changes without the README.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { electronNodeRange, minimumOf, satisfies } from '../../scripts/start';

const root = join(import.meta.dirname, '..', '..');
const read = (f: string): string => readFileSync(join(root, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const short = (m: [number, number, number]): string => `${m[0]}.${m[1]}`;

describe('Node.js versions per command', () => {
  it('README states the engines minimum for the tests and the CLI, and Electron’s for npm start and dist', () => {
    const readme = read('README.md');
    const tests = short(minimumOf(pkg.engines.node));
    const electron = short(minimumOf(electronNodeRange()));
    expect(readme).toMatch(new RegExp(`\\| \`npm start\`, \`npm run dist\` +\\| ${electron} or newer`));
    expect(readme).toMatch(new RegExp(`\\| \`npm test\`, the CLI, \`npm run build\` +\\| ${tests} or newer`));
  });

  it('.ci/run checks the version from engines', () => {
    expect(read('.ci/run')).toContain('require("./package.json").engines.node');
  });

  it('compares versions as the checks do', () => {
    expect(minimumOf('>= 22.12.0')).toEqual([22, 12, 0]);
    expect(satisfies('v22.12.0', [22, 12, 0])).toBe(true);
    expect(satisfies('v22.11.9', [22, 12, 0])).toBe(false);
    expect(satisfies('v24.1.0', [22, 12, 0])).toBe(true);
    expect(satisfies('v20.20.2', [22, 12, 0])).toBe(false);
  });
});
