import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bindingFile,
  chooseBinding,
  currentRuntime,
  findAppRoot,
  fixCommand,
  nativeRoot,
  nativeUnavailable,
  runtimeKey,
  sqliteVersion,
  unpackedPath,
  type RuntimeId,
} from './native-binding';

const dir = mkdtempSync(join(tmpdir(), 'gu-binding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const electron: RuntimeId = { runtime: 'electron', version: '45.4.1', abi: '150', platform: 'linux', arch: 'x64' };

describe('the native module per runtime', () => {
  it('names a runtime by its kind and ABI', () => {
    expect(runtimeKey(electron)).toBe('electron-v150-linux-x64');
    const electronVersions = { ...process.versions, electron: '45.4.1', modules: '150' } as NodeJS.ProcessVersions;
    expect(currentRuntime(electronVersions)).toMatchObject({ runtime: 'electron', version: '45.4.1', abi: '150' });
    expect(currentRuntime()).toMatchObject({ runtime: 'node', abi: process.versions.modules });
  });

  it('finds the app root up from a bundle, and loads native files from beside the asar', () => {
    expect(findAppRoot(import.meta.dirname)).toBe(join(import.meta.dirname, '..', '..', '..', '..'));
    expect(unpackedPath('/opt/Glance Uploader/resources/app.asar')).toBe(
      '/opt/Glance Uploader/resources/app.asar.unpacked',
    );
    expect(unpackedPath('C:\\Apps\\resources\\app.asar\\native')).toBe(
      'C:\\Apps\\resources\\app.asar.unpacked\\native',
    );
    expect(unpackedPath('/home/u/src/glance-uploader')).toBe('/home/u/src/glance-uploader');
    expect(nativeRoot('/opt/g/resources/app.asar', {})).toBe('/opt/g/resources/app.asar.unpacked/native');
    expect(nativeRoot('/src/g', { GLANCE_UPLOADER_NATIVE_DIR: '/cache/native' })).toBe('/cache/native');
  });

  it('picks the per-runtime build when it is there, else the one the install made', () => {
    const env = { GLANCE_UPLOADER_NATIVE_DIR: join(dir, 'native') };
    const none = chooseBinding(env, import.meta.dirname, electron);
    expect(none.perRuntime).toBe(false);
    expect(none.file).toMatch(/node_modules[\\/]better-sqlite3[\\/]build[\\/]Release[\\/]better_sqlite3\.node$/);
    const wanted = bindingFile(env.GLANCE_UPLOADER_NATIVE_DIR, sqliteVersion(), 'electron-v150-linux-x64');
    mkdirSync(join(wanted, '..'), { recursive: true });
    writeFileSync(wanted, '');
    const chosen = chooseBinding(env, import.meta.dirname, electron);
    expect(chosen).toMatchObject({ perRuntime: true, file: wanted, wanted });
  });

  it('says the exact command for a checkout, and "reinstall" for a packaged app', () => {
    const choice = chooseBinding({}, import.meta.dirname, electron);
    expect(fixCommand(choice)).toBe(`cd "${choice.appRoot}" && npm run native -- --runtime electron`);
    const packaged = { ...choice, appRoot: '/opt/Glance Uploader/resources/app.asar' };
    expect(fixCommand(packaged)).toBeUndefined();
    const e = nativeUnavailable(packaged, new Error('cannot open shared object file'));
    expect(e.info).toMatchObject({ code: 'setup.native_unavailable' });
    expect(e.info.hint).toMatch(/reinstall Glance Uploader/);
    expect(e.info.fix).toBeUndefined();
    expect(e.message).toMatch(/electron 45\.4\.1 \(ABI 150, linux-x64\): cannot open shared object file/);
  });
});
