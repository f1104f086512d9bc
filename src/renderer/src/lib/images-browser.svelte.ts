/**
 * State of the images page: clouds -> regions -> images. Plain class with runes; the API is
 * injected, so the same logic runs against Electron IPC and the test bridge. Answers that arrive
 * after the user picked something else are dropped.
 */
import type { CloudSummary, ImageSummary, RegionSummary } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { asErrorInfo } from './errors';

type Loading = 'idle' | 'clouds' | 'regions' | 'images';

export class ImagesBrowser {
  clouds = $state.raw<CloudSummary[]>([]);
  regions = $state.raw<RegionSummary[]>([]);
  images = $state.raw<ImageSummary[]>([]);
  cloud = $state('');
  region = $state('');
  loading = $state<Loading>('idle');
  error = $state<ErrorInfo | undefined>(undefined);
  /** Epoch ms at which images were loaded for the current cloud and region. */
  loadedAt = $state<number | undefined>(undefined);
  #generation = 0;

  constructor(private readonly api: Api) {}

  async init(): Promise<void> {
    const gen = ++this.#generation;
    this.loading = 'clouds';
    this.error = undefined;
    try {
      const clouds = await this.api.listClouds();
      if (gen !== this.#generation) return;
      this.clouds = clouds;
      this.loading = 'idle';
      const first = clouds[0];
      if (clouds.length === 1 && first !== undefined) await this.selectCloud(first.name);
    } catch (e) {
      if (gen === this.#generation) this.#fail(e);
    }
  }

  async selectCloud(name: string): Promise<void> {
    const gen = ++this.#generation;
    this.cloud = name;
    this.region = '';
    this.regions = [];
    this.images = [];
    this.loadedAt = undefined;
    this.error = undefined;
    if (name === '') return;
    this.loading = 'regions';
    try {
      const regions = await this.api.listRegions({ cloud: name });
      if (gen !== this.#generation) return;
      this.regions = regions;
      this.loading = 'idle';
      const preferred = this.clouds.find((c) => c.name === name)?.regions[0];
      const pick = regions.find((r) => r.id === preferred) ?? (regions.length === 1 ? regions[0] : undefined);
      if (pick !== undefined) await this.selectRegion(pick.id);
    } catch (e) {
      if (gen === this.#generation) this.#fail(e);
    }
  }

  async selectRegion(id: string): Promise<void> {
    this.region = id;
    await this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.cloud === '' || this.region === '') return;
    const gen = ++this.#generation;
    this.loading = 'images';
    this.error = undefined;
    try {
      const images = await this.api.listImages({ cloud: this.cloud, region: this.region });
      if (gen !== this.#generation) return;
      this.images = images;
      this.loadedAt = Date.now();
      this.loading = 'idle';
    } catch (e) {
      if (gen === this.#generation) this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    this.error = asErrorInfo(e);
    this.loading = 'idle';
  }
}
