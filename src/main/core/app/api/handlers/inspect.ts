/** Inspection before an upload: each file's real format, virtual size, findings, and whether Glance would refuse it. */
import { dirname } from 'node:path';
import { imageMetadefs } from '../../../openstack/glance-metadefs';
import { guestHints } from '../../../inspect/guest-hints';
import { loadProfiles, profilesDir, saveProfile } from '../../../planning/profiles';
import type { HandlerDeps } from './deps';
import type { ApiHandlers } from '../api-service';
import { inspectFile, refusal } from '../../../inspect/inspect';
import { EngineError, toErrorInfo } from '../../../io/errors';
import { scanData } from '../../../io/zero-runs';
import { diskFormatFromName, expandImagePaths, stemOf } from '../../../planning/upload-plan';

type InspectHandlers = Pick<
  ApiHandlers,
  'inspectFiles' | 'scanData' | 'listProfiles' | 'saveProfile' | 'imageMetadefs'
>;

export function inspectHandlers({ engine }: HandlerDeps): InspectHandlers {
  const dataFolder = dirname(engine.cacheDir);
  return {
    listProfiles: async () => ({ ...loadProfiles(dataFolder), folder: profilesDir(dataFolder) }),
    saveProfile: async ({ id, text }) => saveProfile(dataFolder, id, text),
    imageMetadefs: async ({ cloud, region }) => imageMetadefs(await engine.glance(cloud, region)),
    // Reads the file through (zero runs count as empty): asked for a raw file whose st_blocks
    // do not show it mostly empty, after its inspection is shown.
    scanData: async ({ path }) => {
      try {
        return { path, dataSize: await scanData(path) };
      } catch (e) {
        if (e instanceof EngineError) throw e;
        throw new EngineError('source.unreadable', `Cannot read ${path}: ${(e as Error).message}`, {
          hint: 'Check the path and the file permissions.',
        });
      }
    },
    inspectFiles: async ({ paths }) => {
      const files = await expandImagePaths(paths.map((path) => ({ path })));
      return Promise.all(
        files.map(async ({ path }) => {
          const base = { path, name: stemOf(path) };
          try {
            const ins = await inspectFile(path);
            // A name that states a format (disk.qcow2, not disk.img) is a declaration the content must match.
            const named = diskFormatFromName(path);
            const refused = refusal(ins, named !== 'raw' ? named : undefined, false);
            return {
              ...base,
              size: ins.size,
              allocatedSize: ins.allocatedSize,
              format: ins.format,
              diskFormat: ins.diskFormat,
              containerFormat: ins.containerFormat,
              virtualSize: ins.virtualSize,
              minDiskGiB: ins.minDiskGiB,
              findings: ins.findings.map((f) => ({
                code: f.code,
                severity: f.severity,
                message: f.message,
                hint: f.hint,
              })),
              refused: refused === undefined ? null : refused.info,
              suggested: await guestHints(path, ins.format, ins.details),
            };
          } catch (e) {
            return {
              ...base,
              size: 0,
              allocatedSize: null,
              format: 'unknown',
              diskFormat: null,
              containerFormat: null,
              virtualSize: null,
              minDiskGiB: null,
              findings: [],
              refused: toErrorInfo(e),
            };
          }
        }),
      );
    },
  };
}
