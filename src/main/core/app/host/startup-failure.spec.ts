import { describe, expect, it } from 'vitest';
import { startupFailureDialog } from './startup-failure';

describe('startupFailureDialog', () => {
  it('names the code, the hint and the exact command, and offers to copy it', () => {
    const d = startupFailureDialog({
      code: 'setup.native_unavailable',
      message: "SQLite's native module cannot be loaded in electron 45.4.1 (ABI 150, linux-x64): not found",
      hint: 'Build it for this runtime.',
      fix: 'cd "/src/glance-uploader" && npm run native -- --runtime electron',
    });
    expect(d.detail).toContain('Error code: setup.native_unavailable');
    expect(d.detail).toContain('Build it for this runtime.');
    expect(d.detail).toContain('  cd "/src/glance-uploader" && npm run native -- --runtime electron');
    expect(d.command).toBe('cd "/src/glance-uploader" && npm run native -- --runtime electron');
    expect(d.buttons[0]).toMatch(/Copy the command/);
  });

  it('has only Quit when nothing can be run (a packaged app: reinstall)', () => {
    const d = startupFailureDialog({
      code: 'setup.native_unavailable',
      message: 'x',
      hint: 'reinstall Glance Uploader',
    });
    expect(d.command).toBeUndefined();
    expect(d.buttons).toEqual(['Quit']);
    expect(d.detail).toMatch(/reinstall Glance Uploader[\s\S]*Error code: setup.native_unavailable/);
  });
});
