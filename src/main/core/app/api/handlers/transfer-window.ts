/** The transfer window: the status bar's limit and speed, and the speed graphs of the jobs. */
import type { BandwidthState } from '../../../../../shared/dto';
import type { Db } from '../../../queue/database';
import { DEFAULT_LEASE_TTL_MS, Lease } from '../../../queue/lease';
import { queueSpeed } from '../../../queue/queue-speed';
import type { BandwidthNow } from '../../../transfer/token-bucket';
import type { ApiHandlers } from '../api-service';
import type { HandlerDeps } from './deps';

type TransferWindowHandlers = Pick<ApiHandlers, 'transferStatus'>;

export function bandwidthState(now: BandwidthNow): BandwidthState {
  return {
    rate: now.rate,
    scheduled: now.schedule !== undefined,
    until: now.schedule?.until?.getTime() ?? null,
  };
}

/** Another process (a CLI `queue run`) holds a live lease on the queue: its limit, not ours, is in force. */
function runElsewhere(db: Db, running: boolean): boolean {
  if (running) return false;
  const h = new Lease(db, 'app').current();
  return h !== undefined && Date.now() - h.heartbeatAt < DEFAULT_LEASE_TTL_MS;
}

export function transferWindowHandlers({ db, scheduler }: HandlerDeps): TransferWindowHandlers {
  return {
    transferStatus: async () => ({
      bandwidth: runElsewhere(db, scheduler.running)
        ? { rate: 0, scheduled: false, until: null, elsewhere: true }
        : bandwidthState(scheduler.bandwidth.now),
      ...queueSpeed(scheduler.repo),
    }),
  };
}
