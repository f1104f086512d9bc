/**
 * The Settings screen's state and flows: the saved settings and the form over them (checked as
 * typed, saved only when valid, applied at once by the engine), the plain-text secrets opt-in,
 * and the activity log with its export.
 */
import type { ActivityEvent, SettingsDto } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api, ApiResults } from '../../../shared/ipc/contract';
import { asErrorInfo } from './errors';
import { blankSettingsForm, formFromSettings, settingsFormErrors, updateOf, type SettingsForm } from './settings-form';

export class SettingsModel {
  settings = $state.raw<SettingsDto | undefined>(undefined);
  form = $state<SettingsForm>(blankSettingsForm());
  /** What is wrong with the form, by field. */
  readonly errors = $derived(settingsFormErrors(this.form));
  saved = $state<string | undefined>(undefined);
  activity = $state.raw<ActivityEvent[]>([]);
  /** The metadata profiles (shipped and the user's), user files that are not profiles, their folder. */
  profiles = $state.raw<ApiResults['listProfiles'] | undefined>(undefined);
  profileSaved = $state<string | undefined>(undefined);
  error = $state<ErrorInfo | undefined>(undefined);

  constructor(private readonly api: Api) {}

  async load(): Promise<void> {
    try {
      this.settings = await this.api.getSettings();
      this.form = formFromSettings(this.settings);
      this.activity = await this.api.listActivity({ limit: 300 });
      this.profiles = await this.api.listProfiles();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  /** Saved only when every field is valid; false otherwise (the fields say why). */
  async save(): Promise<boolean> {
    this.saved = undefined;
    if (Object.keys(this.errors).length > 0) return false;
    try {
      await this.api.updateSettings(updateOf(this.form));
      this.settings = await this.api.getSettings();
      this.saved = 'Saved. The queue uses them now; the local server port, when the server next starts.';
      return true;
    } catch (err) {
      this.error = asErrorInfo(err);
      return false;
    }
  }

  /** A JSON Schema file of the user's, checked by the engine and kept as profiles/<name>.json. */
  async importProfile(fileName: string, text: string): Promise<void> {
    this.profileSaved = undefined;
    try {
      const id = fileName.replace(/\.json$/i, '').replace(/[^A-Za-z0-9._-]/g, '-');
      const p = await this.api.saveProfile({ id, text });
      this.profiles = await this.api.listProfiles();
      this.profileSaved = `Profile "${p.title}" added: New upload offers it.`;
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  async setPlaintext(allow: boolean): Promise<void> {
    try {
      await this.api.setAllowPlaintextSecrets({ allow });
      this.settings = await this.api.getSettings();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  /** The activity log as a file (name and text); the screen offers it for download. */
  async exportLog(format: 'csv' | 'json'): Promise<{ fileName: string; text: string } | undefined> {
    try {
      return await this.api.exportActivity({ format });
    } catch (e) {
      this.error = asErrorInfo(e);
      return undefined;
    }
  }
}
