/** Data that crosses process boundaries. Plain JSON: no classes, no Dates, no secrets. */
import type { SpeedView } from './speed-series';
import type { TargetState } from './target-states';

export interface CloudSummary {
  /** The entry's name in clouds.yaml, or "envvars" for a cloud made of OS_* variables. */
  name: string;
  authUrl: string;
  authType: string;
  /** The region(s) the entry names; empty when it names none (all catalog regions apply). */
  regions: string[];
  /** Where the entry came from (a file path, or "environment"). */
  source: string;
  /** TLS certificate verification is off for this cloud (verify: false): shown to the user. */
  insecure: boolean;
}

export interface ProjectSummary {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  /** The project the session is scoped to now. */
  current: boolean;
}

export interface RegionSummary {
  id: string;
  /** The image service endpoint of the chosen interface in this region. */
  imageEndpoint: string;
}

/** What a region does with an import, as its probe found (Glance's image_conversion plugin). */
export interface ConversionFact {
  /** Glance stored the probe in another format than it was sent in. */
  converts: boolean;
  /** The format Glance stored the qcow2 probe in (raw: image_conversion with output_format raw). */
  storedFormat: string;
  /** How the probe was sent (glance-direct). */
  via: string;
  /**
   * The types of the region's stores (rbd, file, swift...), when /v2/info/stores/detail told
   * (an admin, on a multi-store site); absent when unknown.
   */
  storeTypes?: string[];
}

/** A region's conversion fact and when it was probed (ms since the epoch). */
export type KnownConversion = ConversionFact & { checkedAt: number };

/** What a region lets us do: upload methods (direct PUT and what /v2/info/import lists) and stores. */
export interface RegionCapabilities {
  region: string;
  /** "direct" first, then the import methods the region advertises, in its order. */
  methods: string[];
  stores: { id: string; default: boolean; description?: string }[];
}

export type ImageStatus =
  'queued' | 'saving' | 'uploading' | 'importing' | 'active' | 'killed' | 'deleted' | 'pending_delete' | 'deactivated';

export interface ImageSummary {
  id: string;
  name: string | null;
  status: ImageStatus;
  diskFormat: string | null;
  containerFormat: string | null;
  visibility: string;
  size: number | null;
  owner: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One target of a job, as the renderer sees it live. */
export interface TargetSnapshot {
  id: string;
  cloud: string;
  region: string;
  store: string;
  state: TargetState;
  attempt: number;
  bytesAccepted: number;
  remoteImageId: string | null;
  error: { code: string; message: string; hint?: string } | null;
  nextAttemptAt: number | null;
  /** How the bytes get there: direct, glance-direct, glance-download, copy-image, existing... */
  method: string;
  /** Done and its image's hashes checked against the source's (or linked to an equal image). */
  verified: boolean;
  /** Where the latest try continued instead of byte 0 (a relay, the local server's resumable upload). */
  resumedAt?: number;
  /** Sent a compressed copy in this format instead of the file (shrink). */
  sendFormat?: string;
  /** What was sent and what Glance stored, when they differ (shrunk, or converted by Glance). */
  conversion?: ConversionOutcome;
}

export interface ConversionOutcome {
  sentFormat: string;
  sentBytes: number;
  storedFormat: string | null;
  storedSize: number | null;
  /** Bytes of the file that never crossed the wire. */
  savedBytes: number;
}

/** A job's state, sent coalesced (about every 100 ms while busy, at once on a terminal change). */
export interface JobUpdate {
  jobId: string;
  seq: number;
  name: string;
  size: number | null;
  /** The source's sha512, once read (what every region's image is checked against). */
  sha512: string | null;
  targets: TargetSnapshot[];
}

/** The settings the app shows and changes. */
export interface SettingsDto {
  autoSync: { cloud: string; regions: string[]; stores: string[]; method: string; removeLocal: boolean } | null;
  /** Linux without a keyring: keep saved secrets as good as plain text (off by default). */
  allowPlaintextSecrets: boolean;
  /** Targets transferring at once. */
  concurrency: number;
  /** When the queue is done: notify only, or also sleep or run a command. */
  whenDone: WhenQueueDone;
  /** Bandwidth of the whole queue, bytes per second (0: no limit). */
  bwlimit: number;
  /** A weekly timetable for the whole queue (bandwidth-schedule.ts; '' none): over bwlimit when set. */
  bwSchedule: string;
  tokenRenewMarginS: number;
  /** How long transient failures of a target are retried before it fails (hours). */
  retryBudgetHours: number;
  /** An identical image already in a region: link it ('reuse') or upload a new one. */
  duplicateCheck: 'reuse' | 'upload';
  /** The local server's port when the app starts it (0: any free port). */
  localServerPort: number;
  /** The relay: segment size (MiB), segments at once, auto from (GiB), may set the account key. */
  relaySegmentMiB: number;
  relayParallel: number;
  relayAutoGiB: number;
  relayAccountKey: boolean;
  /** Shrink raw files: 'auto' where the region converts back, 'qcow2' everywhere, 'off'. */
  shrink: ShrinkMode;
  /** The most the cache of compressed copies may hold (GiB; 0: as much as the disk allows). */
  shrinkCacheGiB: number;
  /** Where the queue, the local server's data and the cache live (GLANCE_UPLOADER_HOME). */
  dataFolder: string;
  /** The local server, for other clients (openstack CLI, Horizon): null when it is not running. */
  localServer: { url: string; authUrl: string; username: string; password: string; projectName: string } | null;
}

/** What the Settings screen changes (each field optional: only those given change). */
export interface SettingsUpdate {
  /** Targets transferring at once (the app's queue). */
  concurrency?: number;
  /** Bandwidth for the whole queue, bytes per second (0: no limit). */
  bwlimit?: number;
  /** A weekly timetable of limits, rclone's syntax ("Mon-Fri 08:00,10M 18:00,off"); '' for none. */
  bwSchedule?: string;
  /** When the queue is done: notify only, or also sleep or run a command (through the shell). */
  whenDone?: WhenQueueDone;
  /** Renew a token this many seconds before it expires. */
  tokenRenewMarginS?: number;
  /** How long transient failures of a target are retried before it fails (hours; default 24). */
  retryBudgetHours?: number;
  /** An identical image (same sha512) already in the region: link it ('reuse') or upload anyway. */
  duplicateCheck?: 'reuse' | 'upload';
  /** The local server's port when the app starts it (0: any free port). */
  localServerPort?: number;
  /** The relay method: the size of each object-store segment (MiB; default 64). */
  relaySegmentMiB?: number;
  /** The relay method: segments sent at once (default 1; a kill costs up to this many). */
  relayParallel?: number;
  /** --method auto relays files from this size (GiB; default 2) where a region offers it. */
  relayAutoGiB?: number;
  /** The relay may set the object-store ACCOUNT's temp-url key when none exists (default no). */
  relayAccountKey?: boolean;
  /** Shrink raw files before sending: where the region converts back (auto), always (qcow2), never. */
  shrink?: ShrinkMode;
  /** The most the cache of compressed copies may hold (GiB; 0: as much as the disk allows). */
  shrinkCacheGiB?: number;
}

/**
 * How a raw file is sent: 'auto' as a compressed qcow2 where the region converts imports back
 * (Glance's image_conversion), 'qcow2' as a compressed qcow2 everywhere (stored as qcow2 where
 * the region keeps what it is sent), 'off' as it is.
 */
export type ShrinkMode = 'auto' | 'qcow2' | 'off';
export const SHRINK_MODES: readonly ShrinkMode[] = ['auto', 'qcow2', 'off'];

/** Where a staged image went: one target of a sync job made from it. */
export interface SyncRecord {
  jobId: string;
  cloud: string;
  region: string;
  store: string;
  method: string;
  state: string;
  imageId: string | null;
  error: string | null;
}

/** An image of the local server (staged), and where it was synced. */
export interface StagedImage {
  id: string;
  name: string | null;
  status: string;
  size: number | null;
  diskFormat: string | null;
  containerFormat: string | null;
  sha512: string | null;
  tags: string[];
  synced: SyncRecord[];
}

/** A cloud as the login form holds it (the arguments of saveCloud), parsed from a clouds.yaml or openrc. */
export interface CloudDraft {
  name: string;
  authUrl: string;
  authType: string;
  username?: string;
  password?: string;
  projectName?: string;
  projectId?: string;
  userDomain?: string;
  userDomainId?: string;
  projectDomain?: string;
  projectDomainId?: string;
  region?: string;
  applicationCredentialId?: string;
  applicationCredentialSecret?: string;
}

/** What "test connection" found: the user's projects and, per region, what it offers. */
export interface ConnectionReport {
  cloud: string;
  projects: ProjectSummary[];
  regions: (RegionSummary & {
    methods: string[];
    stores: { id: string; default: boolean; description?: string }[];
    /** What an import does there, as its last probe found (null: never probed). */
    conversion: KnownConversion | null;
    /** The region answered the catalog but not Glance: why. */
    error?: { code: string; message: string; hint?: string };
  })[];
}

/** A file (or each image of a folder) as the inspector sees it, before anything is queued. */
export interface InspectedFile {
  path: string;
  /** The image name it would get (the file name without its extension). */
  name: string;
  size: number;
  /** Bytes the file system holds (a sparse file: fewer than size); null: unknown. */
  allocatedSize: number | null;
  /** Bytes in 64 KiB clusters with a non-zero byte, once a data scan (`scanData`) counted them. */
  dataSize?: number;
  /** What the content is (qcow2, raw, vmdk...), whatever the name says. */
  format: string;
  diskFormat: string | null;
  containerFormat: string | null;
  virtualSize: number | null;
  minDiskGiB: number | null;
  findings: { code: string; severity: 'error' | 'warning' | 'info'; message: string; hint: string }[];
  /** Why it would not be queued (an error finding); null: it can go. */
  refused: { code: string; message: string; hint?: string } | null;
  /** Metadata read from the image (firmware, architecture, distribution...), offered to the user. */
  suggested?: Record<string, Suggestion>;
}

/** A value the inspection read for a property, and where it read it ("the file name"...). */
export interface Suggestion {
  value: string;
  from: string;
}

/** One line of the audit log (job and target events, with who did it). */
export interface ActivityEvent {
  id: number;
  at: number;
  actor: string;
  kind: string;
  jobId: string | null;
  targetId: string | null;
  fromState: string | null;
  toState: string | null;
  cloud: string | null;
  region: string | null;
  imageId: string | null;
  detail: Record<string, unknown> | null;
}

/** One check of the cloud doctor. */
export interface DoctorCheck {
  /** Stable: "keystone.reachable", "glance.version:RegionOne", "horizon.origin:RegionOne"... */
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  /** What was found. */
  detail: string;
  /** Why it matters (failures and warnings). */
  why?: string;
  /** The exact change: where it goes and the snippet, with the user's origin and URLs filled in. */
  fixes?: { where: string; snippet: string }[];
  region?: string;
}

export interface DoctorReport {
  cloud: string;
  regions: string[];
  horizonOrigin: string | null;
  checks: DoctorCheck[];
  failed: number;
  warned: number;
  /** Measured by the probe upload, bytes per second, per region. */
  throughput: Record<string, number>;
}

/** The queue's limit as the engine of this app runs it: a constant, or a schedule until its next change. */
export interface BandwidthState {
  /** Bytes per second; 0: none. */
  rate: number;
  /** Set by the weekly schedule (Settings) rather than a constant. */
  scheduled: boolean;
  /** When the schedule changes the limit next (ms since the epoch); null: never, or no schedule. */
  until: number | null;
  /** Another process (a CLI `queue run`) runs the queue, with its own limit: this one is not in force. */
  elsewhere?: boolean;
}

/** The status bar and the speed graphs: the limit, the whole queue's speed, each busy job's. */
export interface TransferStatus {
  bandwidth: BandwidthState;
  queue: SpeedView;
  jobs: { jobId: string; speed: SpeedView }[];
}

/** What the app does when the queue is done, besides notifying: nothing more, sleep, or run a command. */
export type WhenQueueDone = { action: 'notify' } | { action: 'sleep' } | { action: 'command'; command: string };

/** The queue is done: the targets of the work since it was last idle, and what the action did. */
export interface QueueDoneSummary {
  jobs: number;
  done: number;
  failed: number;
  canceled: number;
  action: {
    kind: WhenQueueDone['action'];
    /** The sleep or command's exit code (null: none ran, or it was killed). */
    exitCode: number | null;
    error?: string;
  };
}

/** A half-made image (the janitor): queued, saving, uploading, importing or killed, by any tool. */
export interface Leftover {
  cloud: string;
  region: string;
  id: string;
  name: string | null;
  status: string;
  /** Since Glance last changed it. */
  ageMs: number;
  size: number | null;
  /** A target of this queue made it: its job and file; `live` while the queue works on it. */
  ours: { jobId: string; targetId: string; source: string | null; live: boolean; retryable: boolean } | null;
}

/** A property a cloud's metadata definitions (/v2/metadefs) describe for images. */
export interface MetadefProperty {
  key: string;
  /** The namespace's display name ("Libvirt Driver Options"...). */
  namespace: string;
  title?: string;
  description?: string;
  type?: string;
  enum?: string[];
}
