import { describe, expect, it } from 'vitest';
import { canTransition, isTerminal, TARGET_STATES, WORKING_STATES } from './target-state';

describe('target state machine', () => {
  it('walks the happy path', () => {
    const path = [
      'pending',
      'inspecting',
      'hashing',
      'creating',
      'uploading',
      'importing',
      'verifying',
      'done',
    ] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1] as never, path[i] as never)).toBe(true);
  });

  it('reaches done only from verifying, and never leaves it', () => {
    for (const s of TARGET_STATES) {
      expect(canTransition(s, 'done')).toBe(s === 'verifying');
      expect(canTransition('done', s)).toBe(false);
    }
  });

  it('lets every working phase pause, retry, fail or be canceled', () => {
    for (const s of WORKING_STATES)
      for (const to of ['paused', 'retrying', 'failed', 'canceled'] as const) expect(canTransition(s, to)).toBe(true);
  });

  it('lets crash recovery move a working phase back (uploading -> creating)', () => {
    expect(canTransition('uploading', 'creating')).toBe(true);
    expect(canTransition('importing', 'pending')).toBe(true);
  });

  it('resumes a paused target into work, never straight to done', () => {
    expect(canTransition('paused', 'uploading')).toBe(true);
    expect(canTransition('paused', 'canceled')).toBe(true);
    expect(canTransition('paused', 'done')).toBe(false);
    expect(canTransition('paused', 'retrying')).toBe(false);
  });

  it('restarts failed and canceled targets only through pending', () => {
    expect(canTransition('failed', 'pending')).toBe(true);
    expect(canTransition('failed', 'uploading')).toBe(false);
    expect(canTransition('canceled', 'pending')).toBe(true);
    expect(canTransition('canceled', 'failed')).toBe(false);
    expect(canTransition('failed', 'canceled')).toBe(true);
    expect(TARGET_STATES.filter(isTerminal)).toEqual(['done', 'failed', 'canceled']);
  });

  it('refuses a move to the same state', () => {
    for (const s of TARGET_STATES) expect(canTransition(s, s)).toBe(false);
  });
});
