/**
 * The new-upload screen's state: the files (each inspected as soon as it is added, with its
 * own overrides over the template), the template, the targets (cloud, regions, stores, method:
 * only what the regions offer, from "test connection"), and the region's image schema that the
 * form validates against. Everything the user typed is kept in localStorage as they type, so a
 * reload or a crash of the window loses nothing; the files are inspected again on return.
 */
import type { CloudSummary, ConnectionReport, InspectedFile, MetadefProperty } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import type { MetadataProfile } from '../../../shared/metadata-profile';
import { unique } from './collections';
import { blockingByFile, profileBlocker } from './profile-form';
import { asErrorInfo } from './errors';
import {
  emptyFields,
  hasErrors,
  toRequest,
  validateMetadata,
  validateName,
  type FieldErrors,
  type ImageSchema,
  type MetadataFields,
} from './metadata-validation';

export interface FileOverrides {
  name: string;
  diskFormat: string;
  minRam: string;
  properties: { key: string; value: string }[];
}

export interface FileEntry extends InspectedFile {
  include: boolean;
  overrides: FileOverrides;
  /** The overrides editor is open. */
  open: boolean;
  /** Its data is being counted (a raw file read through for zero runs); false once it was. */
  counting?: boolean;
}

export type Method = 'auto' | 'push' | 'glance-download' | 'relay';

interface Draft {
  template: MetadataFields;
  cloud: string;
  regions: string[];
  stores: string[];
  method: Method;
  bwlimit?: string;
  shrinkQcow2?: boolean;
  profileId?: string;
  files: { path: string; include: boolean; overrides: FileOverrides }[];
}

const DRAFT_KEY = 'glance-uploader:upload-draft';

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export class UploadModel {
  files = $state<FileEntry[]>([]);
  inspecting = $state(false);
  template = $state<MetadataFields>(emptyFields());
  clouds = $state.raw<CloudSummary[]>([]);
  cloud = $state('');
  report = $state.raw<ConnectionReport | undefined>(undefined);
  connecting = $state(false);
  regions = $state<string[]>([]);
  stores = $state<string[]>([]);
  method = $state<Method>('auto');
  /** MB/s per job, as typed ('' for none). */
  bwlimit = $state('');
  /**
   * Send raw files as a compressed qcow2 everywhere (--shrink qcow2); off: the setting decides
   * (auto: only where the region converts imports back to raw).
   */
  shrinkQcow2 = $state(false);
  schema = $state.raw<ImageSchema | undefined>(undefined);
  /** The metadata profiles known (shipped and the user's) and the one the batch must meet ('' none). */
  profiles = $state.raw<MetadataProfile[]>([]);
  profileId = $state('');
  /** The properties the first region's metadata definitions (/v2/metadefs) describe. */
  metadefs = $state.raw<MetadefProperty[]>([]);
  submitting = $state(false);
  error = $state<ErrorInfo | undefined>(undefined);
  /** After a successful submit: how many jobs were queued. */
  queued = $state<number | undefined>(undefined);
  #generation = 0;

  constructor(private readonly api: Api) {}

  get profile(): MetadataProfile | undefined {
    return this.profiles.find((p) => p.id === this.profileId);
  }

  /** The included images the profile refuses, with why. */
  get profileProblems(): ReturnType<typeof blockingByFile> {
    const p = this.profile;
    return p === undefined ? [] : blockingByFile(p, this.template, this.included);
  }

  async init(): Promise<void> {
    try {
      this.profiles = (await this.api.listProfiles()).profiles;
      this.clouds = await this.api.listClouds();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
    const raw = storage()?.getItem(DRAFT_KEY);
    if (raw === null || raw === undefined) return;
    try {
      const d = JSON.parse(raw) as Draft;
      this.template = { ...emptyFields(), ...d.template };
      this.method = d.method ?? 'auto';
      this.bwlimit = d.bwlimit ?? '';
      this.shrinkQcow2 = d.shrinkQcow2 ?? false;
      this.profileId = this.profiles.some((p) => p.id === d.profileId) ? (d.profileId ?? '') : '';
      if (d.cloud !== '' && this.clouds.some((c) => c.name === d.cloud)) {
        await this.chooseCloud(d.cloud, { regions: d.regions, stores: d.stores });
      }
      if (d.files.length > 0) {
        await this.addPaths(d.files.map((f) => f.path));
        for (const f of this.files) {
          const saved = d.files.find((x) => x.path === f.path);
          if (saved !== undefined) {
            f.include = saved.include && f.refused === null;
            f.overrides = saved.overrides;
          }
        }
      }
    } catch {
      storage()?.removeItem(DRAFT_KEY); // a draft from an older version: start clean
    }
  }

  /** Keep what the user typed (called by the page on every change). */
  saveDraft(): void {
    const d: Draft = {
      template: $state.snapshot(this.template),
      cloud: this.cloud,
      regions: [...this.regions],
      stores: [...this.stores],
      method: this.method,
      bwlimit: this.bwlimit,
      shrinkQcow2: this.shrinkQcow2,
      profileId: this.profileId,
      files: this.files.map((f) => ({ path: f.path, include: f.include, overrides: $state.snapshot(f.overrides) })),
    };
    storage()?.setItem(DRAFT_KEY, JSON.stringify(d));
  }

  /** Files or folders (absolute paths): inspected now, each folder's images listed. */
  async addPaths(paths: string[]): Promise<void> {
    const fresh = paths.filter((p) => p !== '' && !this.files.some((f) => f.path === p));
    if (fresh.length === 0) return;
    this.inspecting = true;
    this.error = undefined;
    this.queued = undefined;
    try {
      const found = await this.api.inspectFiles({ paths: fresh });
      const known = this.files.map((f) => f.path);
      for (const f of found) {
        if (known.includes(f.path)) continue;
        this.files.push({
          ...f,
          include: f.refused === null,
          open: false,
          overrides: { name: f.name, diskFormat: '', minRam: '', properties: [] },
        });
      }
    } catch (e) {
      this.error = asErrorInfo(e);
    } finally {
      this.inspecting = false;
    }
    void this.#countData();
  }

  #countingData = false;

  /**
   * The data of each raw file whose file system does not show it mostly empty (a disk copied out
   * in full holds its zeros as data), counted after the list is shown, one file at a time: it
   * reads the file through. What is counted shows as "X of data", as shrink will see it.
   */
  async #countData(): Promise<void> {
    if (this.#countingData) return;
    this.#countingData = true;
    try {
      for (;;) {
        const f = this.files.find(
          (x) =>
            x.format === 'raw' &&
            x.refused === null &&
            x.counting === undefined &&
            (x.allocatedSize === null || x.allocatedSize > x.size / 2),
        );
        if (f === undefined) return;
        f.counting = true;
        try {
          f.dataSize = (await this.api.scanData({ path: f.path })).dataSize;
        } catch {
          // Unread: the figure stays what the file system says; queueing reads the file anyway.
        } finally {
          f.counting = false;
        }
      }
    } finally {
      this.#countingData = false;
    }
  }

  removeFile(path: string): void {
    this.files = this.files.filter((f) => f.path !== path);
  }

  async chooseCloud(name: string, keep: { regions?: string[]; stores?: string[] } = {}): Promise<void> {
    const gen = ++this.#generation;
    this.cloud = name;
    this.report = undefined;
    this.schema = undefined;
    this.metadefs = [];
    this.regions = [];
    this.stores = [];
    this.error = undefined;
    if (name === '') return;
    this.connecting = true;
    try {
      const report = await this.api.testConnection({ cloud: name });
      if (gen !== this.#generation) return;
      this.report = report;
      const ids = report.regions.map((r) => r.id);
      const wanted = (keep.regions ?? this.clouds.find((c) => c.name === name)?.regions ?? []).filter((r) =>
        ids.includes(r),
      );
      this.regions = wanted.length > 0 ? wanted : ids.length === 1 ? ids : [];
      this.stores = (keep.stores ?? []).filter((s) => this.storeChoices.includes(s));
      const first = this.regions[0] ?? ids[0];
      if (first !== undefined) {
        this.schema = (await this.api.imageSchema({ cloud: name, region: first })) as ImageSchema;
        // The region's metadata definitions: known keys and values (none when the cloud has none),
        // fetched aside: the form does not wait for them.
        void this.api.imageMetadefs({ cloud: name, region: first }).then(
          (defs) => {
            if (gen === this.#generation) this.metadefs = defs;
          },
          () => undefined,
        );
      }
    } catch (e) {
      if (gen === this.#generation) this.error = asErrorInfo(e);
    } finally {
      if (gen === this.#generation) this.connecting = false;
    }
  }

  toggleRegion(id: string, on: boolean): void {
    this.regions = on ? unique([...this.regions, id]) : this.regions.filter((r) => r !== id);
    this.stores = this.stores.filter((s) => this.storeChoices.includes(s));
  }

  toggleStore(id: string, on: boolean): void {
    this.stores = on ? unique([...this.stores, id]) : this.stores.filter((s) => s !== id);
  }

  /** Stores of the chosen regions (a choice only where a region has more than one). */
  get storeChoices(): string[] {
    const chosen = this.report?.regions.filter((r) => this.regions.includes(r.id)) ?? [];
    return unique(chosen.flatMap((r) => (r.stores.length > 1 ? r.stores.map((s) => s.id) : [])));
  }

  /** Distribution methods that make sense for the chosen regions. */
  get methodChoices(): Method[] {
    const chosen = this.report?.regions.filter((r) => this.regions.includes(r.id)) ?? [];
    const pull = chosen.length > 1 && chosen.slice(1).every((r) => r.methods.includes('glance-download'));
    const relay = chosen.length > 0 && chosen.every((r) => r.methods.includes('relay'));
    return [
      'auto' as const,
      'push' as const,
      ...(pull ? (['glance-download'] as const) : []),
      ...(relay ? (['relay'] as const) : []),
    ];
  }

  get templateErrors(): FieldErrors {
    return validateMetadata(this.schema, this.template);
  }

  fileErrors(f: FileEntry): FieldErrors {
    const e = validateMetadata(this.schema, {
      ...emptyFields(),
      diskFormat: f.overrides.diskFormat,
      minRam: f.overrides.minRam,
      properties: f.overrides.properties,
      visibility: '',
    });
    const name = validateName(this.schema, f.overrides.name);
    return name === undefined ? e : { ...e, name };
  }

  get bwlimitError(): string | undefined {
    const t = this.bwlimit.trim();
    if (t === '') return undefined;
    const n = Number(t);
    return Number.isFinite(n) && n > 0 ? undefined : 'The bandwidth limit is a number of MB/s above 0.';
  }

  get included(): FileEntry[] {
    return this.files.filter((f) => f.include && f.refused === null);
  }

  /** Why the form cannot be sent yet, or undefined when it can. */
  get blocker(): string | undefined {
    if (this.included.length === 0) return 'Add at least one image that can be uploaded.';
    if (this.cloud === '') return 'Choose a cloud.';
    if (this.regions.length === 0) return 'Choose at least one region.';
    if (hasErrors(this.templateErrors)) return 'Fix the metadata marked above.';
    if (this.bwlimitError !== undefined) return this.bwlimitError;
    if (this.included.some((f) => hasErrors(this.fileErrors(f)))) return 'Fix the file overrides marked above.';
    const p = this.profile;
    return p === undefined ? undefined : profileBlocker(p, this.profileProblems);
  }

  async submit(): Promise<string[] | undefined> {
    if (this.blocker !== undefined) return undefined;
    this.submitting = true;
    this.error = undefined;
    try {
      const { jobIds } = await this.api.enqueueUploads({
        images: this.included.map((f) => {
          const o = f.overrides;
          const props = o.properties.filter((p) => p.key.trim() !== '');
          return {
            path: f.path,
            name: o.name.trim(),
            ...(o.diskFormat !== '' ? { diskFormat: o.diskFormat } : {}),
            ...(o.minRam.trim() !== '' ? { minRam: Number(o.minRam) } : {}),
            ...(props.length > 0 ? { properties: Object.fromEntries(props.map((p) => [p.key.trim(), p.value])) } : {}),
          };
        }),
        cloud: this.cloud,
        regions: [...this.regions],
        ...(this.stores.length > 0 ? { stores: [...this.stores] } : {}),
        method: this.method,
        ...(this.bwlimit.trim() !== '' ? { bwlimit: Math.max(1, Math.round(Number(this.bwlimit) * 1e6)) } : {}),
        ...(this.shrinkQcow2 ? { shrink: 'qcow2' as const } : {}),
        ...(this.profileId !== '' ? { profile: this.profileId } : {}),
        ...toRequest(this.template),
      });
      this.queued = jobIds.length;
      this.files = [];
      this.saveDraft(); // the template and targets stay for the next batch
      return jobIds;
    } catch (e) {
      this.error = asErrorInfo(e);
      return undefined;
    } finally {
      this.submitting = false;
    }
  }
}
