/**
 * The Clouds screen's state and flows: the known clouds, a connection test (projects, and per
 * region the methods and stores offered, and what an import does there, probed on demand) with
 * a project switch, forgetting a saved cloud,
 * importing a clouds.yaml or openrc into drafts, and "save and test": a cloud that cannot sign
 * in is not kept (unless it existed before), and the form stays as typed.
 */
import type { CloudDraft, CloudSummary, ConnectionReport } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { blankForm, formFromDraft, importFormat, saveArgsOf, type CloudForm } from './cloud-form';
import { asErrorInfo } from './errors';

export class CloudsModel {
  clouds = $state.raw<CloudSummary[]>([]);
  /** The cloud tested last (its report, its doctor). */
  selected = $state('');
  report = $state.raw<ConnectionReport | undefined>(undefined);
  testing = $state(false);
  error = $state<ErrorInfo | undefined>(undefined);
  formError = $state<ErrorInfo | undefined>(undefined);
  /** Clouds read from an imported file, offered to fill the form. */
  drafts = $state.raw<CloudDraft[]>([]);
  saving = $state(false);
  /** The cloud the form saved last (and that signed in). */
  saved = $state<string | undefined>(undefined);
  form = $state<CloudForm>(blankForm());

  constructor(private readonly api: Api) {}

  async load(): Promise<void> {
    try {
      this.clouds = await this.api.listClouds();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  /** Sign in to a cloud and ask its regions what they offer. */
  async test(name: string): Promise<boolean> {
    this.selected = name;
    this.report = undefined;
    this.error = undefined;
    this.testing = true;
    try {
      this.report = await this.api.testConnection({ cloud: name });
      return true;
    } catch (e) {
      this.error = asErrorInfo(e);
      return false;
    } finally {
      this.testing = false;
    }
  }

  /** The region being probed (what an import does there), if any. */
  probing = $state<string | undefined>(undefined);

  /** Find out again whether a region's imports convert (a 1 MiB qcow2 through glance-direct). */
  async probe(region: string): Promise<void> {
    const report = this.report;
    if (report === undefined) return;
    this.probing = region;
    this.error = undefined;
    try {
      const conversion = await this.api.probeConversion({ cloud: report.cloud, region });
      if (this.report === report)
        this.report = { ...report, regions: report.regions.map((r) => (r.id === region ? { ...r, conversion } : r)) };
    } catch (e) {
      this.error = asErrorInfo(e);
    } finally {
      this.probing = undefined;
    }
  }

  async switchProject(projectId: string): Promise<void> {
    try {
      await this.api.switchProject({ cloud: this.selected, projectId });
      await this.test(this.selected);
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  async forget(name: string): Promise<void> {
    try {
      await this.api.forgetCloud({ name });
      if (this.selected === name) {
        this.selected = '';
        this.report = undefined;
      }
      await this.load();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  useDraft(d: CloudDraft): void {
    this.form = formFromDraft(d);
    this.formError = undefined;
  }

  /** An imported file's clouds as drafts; a file with one cloud fills the form at once. Nothing is saved. */
  async importText(text: string, fileName: string): Promise<void> {
    this.formError = undefined;
    try {
      this.drafts = await this.api.parseCloudConfig({ format: importFormat(text), text, fileName });
      const first = this.drafts[0];
      if (this.drafts.length === 1 && first !== undefined) this.useDraft(first);
    } catch (e) {
      this.formError = asErrorInfo(e);
    }
  }

  /** Save, then sign in: a cloud that cannot sign in is not kept, and the form stays as typed. */
  async saveAndTest(): Promise<void> {
    this.formError = undefined;
    this.saved = undefined;
    this.saving = true;
    const args = saveArgsOf(this.form);
    const existed = this.clouds.some((c) => c.name === args.name);
    try {
      await this.api.saveCloud(args);
      try {
        this.report = await this.api.testConnection({ cloud: args.name });
        this.selected = args.name;
        this.saved = args.name;
        this.form = blankForm(); // the file's other clouds stay offered (drafts), to save them too
        await this.load();
      } catch (err) {
        this.formError = asErrorInfo(err);
        if (!existed) await this.api.forgetCloud({ name: args.name }).catch(() => undefined);
      }
    } catch (err) {
      this.formError = asErrorInfo(err);
    } finally {
      this.saving = false;
    }
  }
}
