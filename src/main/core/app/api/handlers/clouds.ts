/** The Clouds screen and the doctor: the clouds the engine knows, saving one, testing it, what a region offers. */
import type { HandlerDeps } from './deps';
import type { ApiHandlers } from '../api-service';
import { cloudBlock } from '../../../clouds/cloud-block';
import { announcedServer, isLocalCloud, LOCAL_CLOUD, LOCAL_REGION } from '../../../distribution/local-cloud';
import { largestQueuedFor, runDoctor } from '../../../doctor/doctor';
import { toErrorInfo } from '../../../io/errors';
import { cloudDrafts } from '../../../openstack/cloud-import';
import { probeConversion } from '../../../openstack/conversion-probe';
import type { KnownConversion } from '../../../../../shared/dto';
import type { RegionFacts } from '../../../queue/region-facts';

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
  | 'probeConversion'
>;

/** A region's conversion fact as the API shows it (null: never probed). */
function knownConversion(facts: RegionFacts, cloud: string, region: string): KnownConversion | null {
  const k = facts.conversion(cloud, region);
  return k === undefined ? null : { ...k.value, checkedAt: k.checkedAt };
}

export function cloudHandlers({ engine, scheduler, savedClouds }: HandlerDeps): CloudHandlers {
  const known = (cloud: string, region: string): KnownConversion | null =>
    knownConversion(scheduler.repo.regionFacts, cloud, region);
  return {
    probeConversion: async ({ cloud, region }) => {
      const fact = await probeConversion(await engine.glance(cloud, region), region);
      scheduler.repo.regionFacts.rememberConversion(cloud, region, fact);
      return known(cloud, region) as KnownConversion;
    },
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
              return { ...r, methods: caps.methods, stores: caps.stores, conversion: known(cloud, r.id) };
            } catch (e) {
              const { code, message, hint } = toErrorInfo(e);
              return {
                ...r,
                methods: [],
                stores: [],
                conversion: known(cloud, r.id),
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
