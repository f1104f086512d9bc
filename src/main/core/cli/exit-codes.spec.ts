import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../shared/errors';
import { EXIT, exitCodeFor } from './exit-codes';

describe('exit codes', () => {
  it('maps every declared code to a documented status', () => {
    expect(exitCodeFor('usage')).toBe(EXIT.usage);
    expect(exitCodeFor('setup.native_unavailable')).toBe(EXIT.config);
    expect(exitCodeFor('glance.import_stalled')).toBe(EXIT.glance);
    for (const code of ERROR_CODES) expect(Object.values(EXIT)).toContain(exitCodeFor(code));
  });
});
