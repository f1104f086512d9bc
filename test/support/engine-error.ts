import { expect } from 'vitest';
import { EngineError } from '../../src/main/core/io/errors';

/** The EngineError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function engineError(p: Promise<unknown>): Promise<EngineError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EngineError);
  return e as EngineError;
}

/** The EngineError `fn` throws, or undefined when it throws none; anything else is thrown on. */
export function thrownBy(fn: () => unknown): EngineError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  return undefined;
}

/** The code of the EngineError `fn` throws, or undefined when it throws none. */
export function codeOf(fn: () => unknown): string | undefined {
  return thrownBy(fn)?.code;
}

/** The code of the EngineError a promise rejects with, or undefined when it resolves. */
export async function rejectionCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EngineError) return e.code;
    throw e;
  }
  return undefined;
}
