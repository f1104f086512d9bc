/**
 * The Staging screen's state and flows: the local server's state, the staged images and where
 * each went, "sync to..." (a cloud, its regions, a method, whether to remove the staged copy)
 * for the chosen images or all of them, and auto-sync on or off with the same destination.
 */
import type { CloudSummary, ConnectionReport, SettingsDto, StagedImage } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { LOCAL_CLOUD } from '../../../shared/local-cloud';
import type { PlanMethod } from '../../../shared/plan-methods';
import { setOf, toggled } from './collections';
import { asErrorInfo } from './errors';

export class StagingModel {
  /** The local server as a cloud (authUrl empty: not running). */
  server = $state.raw<CloudSummary | undefined>(undefined);
  /** The clouds to sync to (every cloud but the local one). */
  clouds = $state.raw<CloudSummary[]>([]);
  staged = $state.raw<StagedImage[]>([]);
  loaded = $state(false);
  error = $state<ErrorInfo | undefined>(undefined);
  /** The images chosen to sync (none: every active one). */
  chosen = $state.raw<ReadonlySet<string>>(setOf());
  cloud = $state('');
  report = $state.raw<ConnectionReport | undefined>(undefined);
  regions = $state<string[]>([]);
  method = $state<PlanMethod>('auto');
  removeLocal = $state(false);
  settings = $state.raw<SettingsDto | undefined>(undefined);
  result = $state<string | undefined>(undefined);
  busy = $state(false);

  constructor(private readonly api: Api) {}

  async load(): Promise<void> {
    this.error = undefined;
    try {
      const all = await this.api.listClouds();
      this.server = all.find((c) => c.name === LOCAL_CLOUD);
      this.clouds = all.filter((c) => c.name !== LOCAL_CLOUD);
      this.settings = await this.api.getSettings();
      this.staged = await this.api.listStaged();
    } catch (e) {
      this.error = asErrorInfo(e);
    } finally {
      this.loaded = true;
    }
  }

  /** A destination cloud: its regions asked (a single region is chosen at once). */
  async chooseCloud(name: string): Promise<void> {
    this.cloud = name;
    this.report = undefined;
    this.regions = [];
    if (name === '') return;
    try {
      this.report = await this.api.testConnection({ cloud: name });
      const ids = this.report.regions.map((r) => r.id);
      this.regions = ids.length === 1 ? ids : [];
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  toggle(id: string, on: boolean): void {
    this.chosen = toggled(this.chosen, id, on);
  }

  toggleRegion(id: string, on: boolean): void {
    this.regions = on ? [...this.regions, id] : this.regions.filter((x) => x !== id);
  }

  /** Queue the sync of the chosen images (or all): true when a job was queued. */
  async sync(): Promise<boolean> {
    this.busy = true;
    this.error = undefined;
    this.result = undefined;
    try {
      const r = await this.api.syncStaged({
        ...(this.chosen.size > 0 ? { imageIds: [...this.chosen] } : {}),
        cloud: this.cloud,
        regions: [...this.regions],
        method: this.method,
        removeLocal: this.removeLocal,
      });
      this.result = `${r.jobIds.length} sync job(s) queued${r.skipped > 0 ? `, ${r.skipped} already there or under way` : ''}.`;
      return r.jobIds.length > 0;
    } catch (e) {
      this.error = asErrorInfo(e);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Auto-sync to this destination on, or off. */
  async setAuto(on: boolean): Promise<void> {
    this.error = undefined;
    try {
      await this.api.setAutoSync(
        on
          ? {
              cloud: this.cloud,
              regions: [...this.regions],
              stores: [],
              method: this.method,
              removeLocal: this.removeLocal,
            }
          : null,
      );
      this.settings = await this.api.getSettings();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }
}
