/**
 * The Leftovers screen's state: a cloud's half-made images (queued, saving, uploading, importing,
 * killed; any tool's), ours told apart. Deleting takes two steps: the images are chosen, then a
 * confirmation names each one; the engine deletes only what a fresh look still lists. Ignored
 * images are hidden (kept in the data folder) unless the user shows them; "Retry" retries the
 * job's target that made one.
 */
import type { CloudSummary, Leftover } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { setOf, toggled } from './collections';
import { asErrorInfo } from './errors';

/** A leftover's key: its region and id (images made with --same-id share an id across regions). */
export const leftoverKey = (l: Leftover): string => `${l.region}/${l.id}`;

export class LeftoversModel {
  clouds = $state.raw<CloudSummary[]>([]);
  cloud = $state('');
  olderThanHours = $state('1');
  showIgnored = $state(false);
  leftovers = $state.raw<Leftover[]>([]);
  ignored = $state.raw<ReadonlySet<string>>(setOf());
  selected = $state.raw<ReadonlySet<string>>(setOf());
  looked = $state(false);
  busy = $state(false);
  /** The images a confirmation names (undefined: none asked). */
  confirming = $state.raw<Leftover[] | undefined>(undefined);
  message = $state<string | undefined>(undefined);
  error = $state<ErrorInfo | undefined>(undefined);

  constructor(private readonly api: Api) {}

  readonly shown = $derived(this.leftovers.filter((l) => this.showIgnored || !this.ignored.has(l.id)));
  readonly hoursError = $derived(
    Number(this.olderThanHours) >= 0 && this.olderThanHours.trim() !== '' ? undefined : 'A number of hours, 0 or more.',
  );

  async load(): Promise<void> {
    try {
      this.clouds = await this.api.listClouds();
      if (this.cloud === '' && this.clouds.length === 1) this.cloud = this.clouds[0]?.name ?? '';
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  async look(): Promise<void> {
    if (this.cloud === '' || this.hoursError !== undefined) return;
    this.busy = true;
    this.error = undefined;
    try {
      const r = await this.api.listLeftovers({
        cloud: this.cloud,
        olderThanHours: Number(this.olderThanHours),
        ...this.#regions(),
      });
      this.leftovers = r.leftovers;
      this.ignored = setOf(r.ignored);
      // A selection keeps only what is still there.
      this.selected = setOf([...this.selected].filter((k) => r.leftovers.some((l) => leftoverKey(l) === k)));
      this.looked = true;
    } catch (e) {
      this.error = asErrorInfo(e);
    } finally {
      this.busy = false;
    }
  }

  /** The regions the cloud's entry names (its region_name), else every region of its catalog. */
  #regions(): { regions?: string[] } {
    const named = this.clouds.find((c) => c.name === this.cloud)?.regions ?? [];
    return named.length > 0 ? { regions: named } : {};
  }

  toggle(id: string, on: boolean): void {
    this.selected = toggled(this.selected, id, on);
  }

  /** Ask: the confirmation names each image chosen (none chosen: nothing asked). */
  askDelete(): void {
    const chosen = this.leftovers.filter((l) => this.selected.has(leftoverKey(l)));
    this.confirming = chosen.length > 0 ? chosen : undefined;
  }

  async confirmDelete(): Promise<void> {
    const chosen = this.confirming;
    this.confirming = undefined;
    if (chosen === undefined) return;
    this.busy = true;
    try {
      const r = await this.api.deleteLeftovers({
        cloud: this.cloud,
        images: chosen.map((l) => ({ region: l.region, id: l.id })),
        olderThanHours: Number(this.olderThanHours),
        ...this.#regions(),
      });
      this.message = `Deleted ${r.deleted.length} image${r.deleted.length === 1 ? '' : 's'}.`;
      this.selected = setOf();
    } catch (e) {
      this.error = asErrorInfo(e);
    } finally {
      this.busy = false;
    }
    await this.look();
  }

  async ignore(ids: string[], ignore: boolean): Promise<void> {
    try {
      await this.api.ignoreLeftovers({ ids, ignore });
      this.ignored = ids.reduce((set, id) => toggled(set, id, ignore), this.ignored);
      if (ignore) {
        const hidden = this.leftovers.filter((l) => ids.includes(l.id)).map(leftoverKey);
        this.selected = setOf([...this.selected].filter((k) => !hidden.includes(k)));
      }
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  async retry(l: Leftover): Promise<void> {
    if (l.ours === null) return;
    try {
      await this.api.controlTarget({ targetId: l.ours.targetId, action: 'retry' });
      this.message = `Retrying ${l.name ?? l.id} in ${l.region}: see the Queue.`;
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }
}
