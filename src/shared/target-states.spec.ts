import { describe, expect, it } from 'vitest';
import { allowedActions, TARGET_STATES } from './target-states';

describe('allowedActions', () => {
  it.each([
    ['pending', ['pause', 'cancel']],
    ['uploading', ['pause', 'cancel']],
    ['retrying', ['pause', 'cancel']],
    ['paused', ['resume', 'cancel']],
    ['failed', ['retry', 'cancel']],
    ['canceled', ['retry']],
    ['done', []],
  ])('%s allows %o', (state, actions) => {
    expect(allowedActions(state)).toEqual(actions);
  });

  it('answers for every state', () => {
    for (const s of TARGET_STATES) expect(Array.isArray(allowedActions(s))).toBe(true);
  });
});
