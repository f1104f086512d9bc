/**
 * The status bar's and the speed graphs' data: `transferStatus` asked every two seconds (the
 * engine keeps the samples, so a window opened late draws the last ten minutes at once).
 */
import type { TransferStatus } from '../../../shared/dto';
import type { Api } from '../../../shared/ipc/contract';
import type { SpeedView } from '../../../shared/speed-series';

export class TransferStatusModel {
  status = $state.raw<TransferStatus | undefined>(undefined);
  /** The last refresh failed: the bar says so rather than showing old figures as current. */
  stale = $state(false);
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly api: Api,
    private readonly everyMs = 2000,
  ) {}

  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async refresh(): Promise<void> {
    try {
      this.status = await this.api.transferStatus();
      this.stale = false;
    } catch {
      this.stale = true;
    }
  }

  jobSpeed(jobId: string): SpeedView | undefined {
    return this.status?.jobs.find((j) => j.jobId === jobId)?.speed;
  }
}
