/**
 * What the project's scripts (npm start, npm run native, npm run dist) share: the project's
 * root, coded failures printed as the CLI prints them (message, hint, code), and the entry check.
 */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../src/shared/errors';
import { EngineError } from '../src/main/core/io/errors';
import { exitCodeFor } from '../src/main/core/cli/exit-codes';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export function fail(code: ErrorCode, message: string, hint: string, fix?: string): never {
  throw new EngineError(code, message, { hint, ...(fix !== undefined ? { fix } : {}) });
}

export class UsageError extends Error {}

export function usage(message: string): never {
  throw new UsageError(message);
}

export function printFailure(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  if (e instanceof EngineError) {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.info.hint) process.stderr.write(`  hint: ${e.info.hint}\n`);
    if (e.info.fix) process.stderr.write(`  fix: ${e.info.fix}\n`);
    process.stderr.write(`  code: ${e.code}\n`);
    return exitCodeFor(e.code);
  }
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n  code: internal\n`);
  return 70;
}

/** Runs `main` when the module at `url` is the process's entry (not when another script imports it). */
export function runMain(url: string, main: () => number | Promise<number>): void {
  const entry = process.argv[1];
  if (entry === undefined || realpathSync(entry) !== realpathSync(fileURLToPath(url))) return;
  Promise.resolve()
    .then(main)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (e: unknown) => {
        process.exitCode = printFailure(e);
      },
    );
}
