/**
 * The Catalog screen's state and flows: a catalog file's plan (shown as a diff per cloud and
 * region, drift marked), refreshed on demand (a change made by hand shows as drift), and apply:
 * asked once more before anything changes, its uploads visible in the queue meanwhile, then the
 * steps made and the plan after it. Late answers of an older request are dropped.
 */
import type { CatalogApplyResult, CatalogPlanDto } from '../../../shared/catalog-dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { asErrorInfo } from './errors';

export class CatalogModel {
  path = $state('');
  plan = $state.raw<CatalogPlanDto | undefined>(undefined);
  result = $state.raw<CatalogApplyResult | undefined>(undefined);
  error = $state.raw<ErrorInfo | undefined>(undefined);
  loading = $state(false);
  applying = $state(false);
  /** Apply was asked for once: the next click makes it (nothing changes on one click). */
  confirming = $state(false);
  #generation = 0;

  constructor(private readonly api: Api) {}

  /** The number of drift marks in the plan (changes made by hand since the last apply). */
  get drift(): number {
    return (this.plan?.regions ?? []).flatMap((r) => r.actions).filter((a) => a.drift).length;
  }

  async refresh(): Promise<void> {
    const path = this.path.trim();
    if (path === '') {
      this.error = {
        code: 'usage',
        message: 'Give the path of a catalog file.',
        hint: 'For example /home/me/images/catalog.yaml',
      };
      return;
    }
    const gen = ++this.#generation;
    this.loading = true;
    this.error = undefined;
    this.result = undefined;
    this.confirming = false;
    try {
      const plan = await this.api.catalogPlan({ path });
      if (gen === this.#generation) this.plan = plan;
    } catch (e) {
      if (gen === this.#generation) {
        this.plan = undefined;
        this.error = asErrorInfo(e);
      }
    } finally {
      if (gen === this.#generation) this.loading = false;
    }
  }

  /** First call: asks for confirmation; second: applies. */
  async apply(): Promise<void> {
    if (this.plan === undefined || this.plan.changes === 0) return;
    if (!this.confirming) {
      this.confirming = true;
      return;
    }
    this.confirming = false;
    this.applying = true;
    this.error = undefined;
    this.result = undefined;
    try {
      this.result = await this.api.catalogApply({ path: this.plan.path });
      this.plan = this.result.final;
    } catch (e) {
      this.error = asErrorInfo(e);
    } finally {
      this.applying = false;
    }
  }

  cancelApply(): void {
    this.confirming = false;
  }
}
