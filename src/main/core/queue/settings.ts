/**
 * Settings kept in the queue database (the `settings` table of migration 1), so the app and
 * the CLI (one data folder) share them.
 * Values are JSON; each key has a type, and a value that does not parse reads as unset.
 */
import { parseSchedule, type BandwidthSchedule } from '../../../shared/bandwidth-schedule';
import type { SettingsUpdate } from '../../../shared/dto';
import type { PlanMethod } from '../../../shared/plan-methods';
import type { Db } from './database';

/** Where staged images go by themselves once their regions can be reached. */
export interface AutoSyncSetting {
  cloud: string;
  regions: string[];
  stores: string[];
  method: PlanMethod;
  /** Delete the staged copy once every region verified it. */
  removeLocal: boolean;
}

/** The Settings screen's values (one definition, shared with the IPC contract), plus these. */
export interface SettingTypes extends Required<SettingsUpdate> {
  autoSync: AutoSyncSetting;
  /** Linux without a keyring: the user accepts secrets kept as good as plain text (off by default). */
  allowPlaintextSecrets: boolean;
  /** This data folder's id: the prefix of what it leaves in object stores (the relay's sweep). */
  installId: string;
  /** Half-made images the user chose to ignore (the Leftovers screen hides them unless asked). */
  ignoredLeftovers: string[];
}

export type SettingKey = keyof SettingTypes;

/** Targets transferring at once when the user did not choose. */
export const DEFAULT_CONCURRENCY = 2;

/** How long a target's transient failures are retried when the user did not choose. */
export const DEFAULT_RETRY_BUDGET_HOURS = 24;

export function retryBudgetMsOf(settings: Settings): number {
  return (settings.get('retryBudgetHours') ?? DEFAULT_RETRY_BUDGET_HOURS) * 3600_000;
}

/** The whole queue's saved limit: the weekly timetable when one is set, else the constant rate. */
export function savedBandwidth(settings: Settings): { rate?: number; schedule?: BandwidthSchedule } {
  const text = settings.get('bwSchedule') ?? '';
  const parsed = text.trim() === '' ? undefined : parseSchedule(text);
  if (parsed !== undefined && 'schedule' in parsed) return { schedule: parsed.schedule };
  return { rate: settings.get('bwlimit') ?? 0 };
}

export class Settings {
  constructor(private readonly db: Db) {}

  get<K extends SettingKey>(key: K): SettingTypes[K] | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    if (row === undefined) return undefined;
    try {
      return JSON.parse(row.value) as SettingTypes[K];
    } catch {
      return undefined;
    }
  }

  set<K extends SettingKey>(key: K, value: SettingTypes[K]): void {
    this.db
      .prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      .run(key, JSON.stringify(value));
  }

  clear(key: SettingKey): void {
    this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  }
}
