/** The Settings screen: what is saved in the data folder, applied at once to what runs. */
import type { SettingsDto } from '../../../../../shared/dto';
import type { HandlerDeps } from './deps';
import type { ApiHandlers } from '../api-service';
import { dirname } from 'node:path';
import { announcedServer, localCredentials } from '../../../distribution/local-cloud';
import { DEFAULT_CONCURRENCY, savedBandwidth } from '../../../queue/settings';
import type { RelayOptions } from '../../../queue/relay-store';

function relaySettings(
  r: RelayOptions,
): Pick<SettingsDto, 'relaySegmentMiB' | 'relayParallel' | 'relayAutoGiB' | 'relayAccountKey'> {
  return {
    relaySegmentMiB: r.segmentSize / (1024 * 1024),
    relayParallel: r.parallel,
    relayAutoGiB: r.autoFrom / 1024 ** 3,
    relayAccountKey: r.allowAccountKey,
  };
}

type SettingHandlers = Pick<ApiHandlers, 'getSettings' | 'updateSettings' | 'setAllowPlaintextSecrets' | 'setAutoSync'>;

export function settingHandlers({ engine, scheduler, settings }: HandlerDeps): SettingHandlers {
  return {
    getSettings: async () => {
      const server = announcedServer(engine.localServerDir);
      const creds = server === undefined ? undefined : localCredentials(engine.localServerDir);
      return {
        autoSync: settings.get('autoSync') ?? null,
        allowPlaintextSecrets: settings.get('allowPlaintextSecrets') === true,
        concurrency: settings.get('concurrency') ?? DEFAULT_CONCURRENCY,
        bwlimit: settings.get('bwlimit') ?? 0,
        bwSchedule: settings.get('bwSchedule') ?? '',
        whenDone: settings.get('whenDone') ?? { action: 'notify' },
        tokenRenewMarginS: Math.round(engine.tokenRenewMarginMs / 1000),
        retryBudgetHours: scheduler.retryBudgetMs / 3600_000,
        duplicateCheck: settings.get('duplicateCheck') ?? 'upload',
        localServerPort: settings.get('localServerPort') ?? 0,
        ...relaySettings(scheduler.repo.relays.options()),
        shrink: settings.get('shrink') ?? 'auto',
        shrinkCacheGiB: settings.get('shrinkCacheGiB') ?? 0,
        dataFolder: dirname(engine.cacheDir),
        localServer:
          server === undefined || creds === undefined
            ? null
            : {
                url: server.url,
                authUrl: server.authUrl,
                username: creds.username,
                password: creds.password,
                projectName: creds.projectName,
              },
      };
    },
    updateSettings: async (u) => {
      // Saved for the next start, and applied now to what runs.
      if (u.concurrency !== undefined) {
        settings.set('concurrency', u.concurrency);
        scheduler.setConcurrency(u.concurrency);
      }
      if (u.bwlimit !== undefined) settings.set('bwlimit', u.bwlimit);
      if (u.bwSchedule !== undefined) settings.set('bwSchedule', u.bwSchedule.trim());
      if (u.bwlimit !== undefined || u.bwSchedule !== undefined) scheduler.bandwidth.apply(savedBandwidth(settings));
      if (u.whenDone !== undefined) settings.set('whenDone', u.whenDone); // read when the queue is next done
      if (u.tokenRenewMarginS !== undefined) {
        settings.set('tokenRenewMarginS', u.tokenRenewMarginS);
        engine.setTokenRenewMargin(u.tokenRenewMarginS * 1000);
      }
      if (u.retryBudgetHours !== undefined) {
        settings.set('retryBudgetHours', u.retryBudgetHours);
        scheduler.setRetryBudget(u.retryBudgetHours * 3600_000);
      }
      if (u.duplicateCheck !== undefined) settings.set('duplicateCheck', u.duplicateCheck);
      if (u.localServerPort !== undefined) settings.set('localServerPort', u.localServerPort); // at the server's next start
      // The relay reads these when a relay starts (a running one keeps its segment size).
      for (const k of ['relaySegmentMiB', 'relayParallel', 'relayAutoGiB', 'relayAccountKey'] as const)
        if (u[k] !== undefined) settings.set(k, u[k]);
      // Read when an upload is queued (shrink) and when a copy is made (shrinkCacheGiB).
      if (u.shrink !== undefined) settings.set('shrink', u.shrink);
      if (u.shrinkCacheGiB !== undefined) settings.set('shrinkCacheGiB', u.shrinkCacheGiB);
      return null;
    },
    setAllowPlaintextSecrets: async ({ allow }) => {
      settings.set('allowPlaintextSecrets', allow);
      return null;
    },
    setAutoSync: async (setting) => {
      if (setting === null) settings.clear('autoSync');
      else settings.set('autoSync', setting);
      return null;
    },
  };
}
