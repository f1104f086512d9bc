/** The transfer window: the status bar's limit and speed, and the speed graphs of the jobs. */
import type { BandwidthState } from '../../../../../shared/dto';
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

export function transferWindowHandlers({ scheduler }: HandlerDeps): TransferWindowHandlers {
  return {
    transferStatus: async () => ({
      bandwidth: scheduler.running
        ? bandwidthState(scheduler.bandwidth.now)
        : { rate: 0, scheduled: false, until: null, elsewhere: true },
      ...queueSpeed(scheduler.repo),
    }),
  };
}
