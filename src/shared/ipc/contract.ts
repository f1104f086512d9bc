/**
 * THE IPC contract: every call the renderer can make, with its argument and result types.
 * Main, preload, renderer and the test bridge all key off it; contract.spec.ts pins the types.
 * Argument types come from the schemas main validates with (type-only import: no zod at run
 * time here).
 */
import type { z } from 'zod';
import type {
  ActivityEvent,
  CloudDraft,
  CloudSummary,
  ConnectionReport,
  DoctorReport,
  ImageSummary,
  InspectedFile,
  KnownConversion,
  Leftover,
  MetadefProperty,
  JobUpdate,
  RegionSummary,
  SettingsDto,
  QueueDoneSummary,
  StagedImage,
  TransferStatus,
} from '../dto';
import type { CatalogApplyResult, CatalogPlanDto } from '../catalog-dto';
import type { MetadataProfile } from '../metadata-profile';
import type { ErrorInfo } from '../errors';
import type { apiArgSchemas } from './contract-schemas';

export type ApiMethod = keyof typeof apiArgSchemas;

export type ApiArgs = { [M in ApiMethod]: z.infer<(typeof apiArgSchemas)[M]> };

export interface ApiResults {
  listClouds: CloudSummary[];
  listRegions: RegionSummary[];
  listImages: ImageSummary[];
  listJobs: JobUpdate[];
  controlTarget: null;
  getSettings: SettingsDto;
  setAllowPlaintextSecrets: null;
  saveCloud: null;
  forgetCloud: null;
  enqueueUploads: { jobIds: string[] };
  listStaged: StagedImage[];
  syncStaged: { jobIds: string[]; skipped: number };
  setAutoSync: null;
  replicateImage: { jobIds: string[] };
  parseCloudConfig: CloudDraft[];
  testConnection: ConnectionReport;
  imageSchema: Record<string, unknown>;
  inspectFiles: InspectedFile[];
  removeJob: null;
  jobEvents: ActivityEvent[];
  listActivity: ActivityEvent[];
  exportActivity: { fileName: string; text: string };
  switchProject: null;
  updateSettings: null;
  runDoctor: DoctorReport;
  probeConversion: KnownConversion;
  scanData: { path: string; dataSize: number };
  catalogPlan: CatalogPlanDto;
  catalogApply: CatalogApplyResult;
  transferStatus: TransferStatus;
  listLeftovers: { leftovers: Leftover[]; ignored: string[] };
  deleteLeftovers: { deleted: { region: string; id: string }[] };
  ignoreLeftovers: null;
  listProfiles: { profiles: MetadataProfile[]; problems: { file: string; error: string }[]; folder: string };
  saveProfile: MetadataProfile;
  imageMetadefs: MetadefProperty[];
}

/**
 * What the preload exposes as `window.api`: one method per contract entry, answering the
 * envelope as plain data. Errors are NOT thrown across contextBridge, because Electron rebuilds
 * a thrown error from its message alone and the code would be lost.
 */
export type Bridge = {
  [M in ApiMethod]: (...args: ApiArgs[M]) => Promise<Envelope<ApiResults[M]>>;
} & EventSubscription &
  FileAccess;

/** What the renderer codes against (createApi over the bridge): results, or a thrown ApiError. */
export type Api = { [M in ApiMethod]: (...args: ApiArgs[M]) => Promise<ApiResults[M]> } & EventSubscription &
  FileAccess;

/** Files dropped on the window: their paths, as the preload alone may read them (webUtils). */
export interface FileAccess {
  /** The path of a dropped or chosen file; '' for one that is not on disk. */
  pathForFile: (file: File) => string;
}

/** What main pushes to the renderer, besides the answers to its calls. */
export type ApiEvent =
  | { kind: 'jobUpdated'; update: JobUpdate }
  | { kind: 'notice'; message: string }
  | { kind: 'queueDone'; summary: QueueDoneSummary };

export interface EventSubscription {
  /**
   * Listen to the events; the first listener tells main the page is ready (events wait in main
   * until then). Returns the function that stops listening.
   */
  onEvent: (listener: (event: ApiEvent) => void) => () => void;
}

/** The channel main pushes events on, and the one the page says it is ready on. */
export const EVENT_CHANNEL = 'glance-uploader:event';
export const READY_CHANNEL = 'glance-uploader:ready';

/** Every method, at run time. `satisfies` + the spec make a missing or extra name a type error. */
export const API_METHODS = [
  'listClouds',
  'listRegions',
  'listImages',
  'listJobs',
  'controlTarget',
  'getSettings',
  'setAllowPlaintextSecrets',
  'saveCloud',
  'forgetCloud',
  'enqueueUploads',
  'listStaged',
  'syncStaged',
  'setAutoSync',
  'replicateImage',
  'parseCloudConfig',
  'testConnection',
  'imageSchema',
  'inspectFiles',
  'removeJob',
  'jobEvents',
  'listActivity',
  'exportActivity',
  'switchProject',
  'updateSettings',
  'runDoctor',
  'probeConversion',
  'scanData',
  'catalogPlan',
  'catalogApply',
  'transferStatus',
  'listLeftovers',
  'deleteLeftovers',
  'ignoreLeftovers',
  'listProfiles',
  'saveProfile',
  'imageMetadefs',
] as const satisfies readonly ApiMethod[];

/** The Electron IPC channel of a method. */
export function channelOf(method: ApiMethod): string {
  return `glance-uploader:${method}`;
}

/** What crosses the process boundary for one call: a result or a coded error, never a throw. */
export type Envelope<T> = { result: T } | { error: ErrorInfo };
