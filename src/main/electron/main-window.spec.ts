import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ BrowserWindow: class {}, shell: {}, protocol: {}, net: {} }));

import { rendererLocation } from './main-window';

describe('rendererLocation', () => {
  it('loads the built page from app://, and owns only app:// URLs of our host', () => {
    const built = rendererLocation(undefined);
    expect(built.url).toBe('app://glance-uploader/index.html');
    expect(built.isOwnUrl('app://glance-uploader/index.html#/queue')).toBe(true);
    expect(built.isOwnUrl('app://glance-uploader.evil/index.html')).toBe(false);
    expect(built.isOwnUrl('file:///opt/app/out/renderer/index.html')).toBe(false);
    expect(built.isOwnUrl('https://glance-uploader/')).toBe(false);
  });

  it('loads the dev server while developing, and owns only its origin', () => {
    const dev = rendererLocation('http://localhost:5173');
    expect(dev.url).toBe('http://localhost:5173');
    expect(dev.isOwnUrl('http://localhost:5173/src/main.ts')).toBe(true);
    expect(dev.isOwnUrl('http://localhost:51730/')).toBe(false);
    expect(dev.isOwnUrl('app://glance-uploader/index.html')).toBe(false);
  });
});
