import { expect } from 'vitest';
import { EngineError } from '../../src/main/core/errors';

/** The EngineError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function engineError(p: Promise<unknown>): Promise<EngineError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EngineError);
  return e as EngineError;
}
