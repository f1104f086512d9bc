/** The Clouds screen and the doctor: the clouds the engine knows, saving one, testing it, what a region offers. */
import type { HandlerDeps } from './deps';
import type { ApiHandlers } from '../api-service';
import { cloudBlock } from '../../../clouds/cloud-block';
import { announcedServer, isLocalCloud, LOCAL_CLOUD, LOCAL_REGION } from '../../../distribution/local-cloud';
import { largestQueuedFor, runDoctor } from '../../../doctor/doctor';
import { toErrorInfo } from '../../../io/errors';
import { cloudDrafts } from '../../../openstack/cloud-import';

type CloudHandlers = Pick<
  ApiHandlers,
  | 'listClouds'
  | 'switchProject'
  | 'listRegions'
  | 'listImages'
  | 'saveCloud'
  | 'forgetCloud'
  | 'parseCloudConfig'
  | 'testConnection'
  | 'imageSchema'
  | 'runDoctor'
>;

export function cloudHandlers({ engine, scheduler, savedClouds }: HandlerDeps): CloudHandlers {
  return {
    listClouds: async () => {
      // The local server is a cloud of its own (where staging goes), listed whether it runs or not;
      // its admin entry (local-admin) is for the CLI and other clients, not a place the app sends to.
      const server = announcedServer(engine.localServerDir);
      return [
        ...engine.listClouds().filter((c) => !isLocalCloud(c.name)),
        {
          name: LOCAL_CLOUD,
          authUrl: server?.authUrl ?? '',
          authType: 'password',
          regions: [LOCAL_REGION],
          source: server === undefined ? 'the local server (not running)' : 'the local server',
          insecure: false,
        },
      ];
    },
    switchProject: async ({ cloud, projectId }) => {
      await engine.switchProject(cloud, projectId);
      return null;
    },
    listRegions: async ({ cloud }) => engine.listRegions(cloud),
    listImages: async ({ cloud, region }) => engine.listImages(cloud, region),
    saveCloud: async (c) => {
      savedClouds.save(c.name, cloudBlock(c));
      return null;
    },
    forgetCloud: async ({ name }) => {
      savedClouds.remove(name);
      return null;
    },
    parseCloudConfig: async ({ format, text, fileName }) => cloudDrafts(format, text, fileName),
    testConnection: async ({ cloud }) => {
      const regions = await engine.listRegions(cloud); // signs in: a wrong password fails here
      const projects = await engine.listProjects(cloud).catch(() => []);
      return {
        cloud,
        projects,
        regions: await Promise.all(
          regions.map(async (r) => {
            try {
              const caps = await engine.regionCapabilities(cloud, r.id);
              return { ...r, methods: caps.methods, stores: caps.stores };
            } catch (e) {
              const { code, message, hint } = toErrorInfo(e);
              return {
                ...r,
                methods: [],
                stores: [],
                error: { code, message, ...(hint !== undefined ? { hint } : {}) },
              };
            }
          }),
        ),
      };
    },
    imageSchema: async ({ cloud, region }) => (await engine.glance(cloud, region)).imageSchema(),
    runDoctor: async ({ cloud, region, horizonOrigin, probeMiB }) => {
      return runDoctor(engine, {
        cloud,
        ...(region !== undefined ? { region } : {}),
        ...(horizonOrigin !== undefined ? { horizonOrigin: horizonOrigin.replace(/\/+$/, '') } : {}),
        largestQueuedBytes: largestQueuedFor(scheduler.repo, cloud),
        probeBytes: Math.round((probeMiB ?? 8) * 1024 * 1024),
        relayAccountKey: scheduler.repo.relays.options().allowAccountKey,
        conversionMemory: scheduler.repo.regionFacts,
      });
    },
  };
}
