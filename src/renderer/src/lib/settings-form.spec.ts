import { describe, expect, it } from 'vitest';
import { blankSettingsForm, settingsFormErrors, updateOf } from './settings-form';

describe('the settings form', () => {
  const valid = { ...blankSettingsForm(), concurrency: '3', bwlimit: '2.5', margin: '120', retryHours: '6', port: '0' };

  it('turns valid fields into the update, MB/s into bytes per second and empty into no limit', () => {
    expect(settingsFormErrors(valid)).toEqual({});
    expect(updateOf(valid)).toEqual({
      concurrency: 3,
      bwlimit: 2_500_000,
      bwSchedule: '',
      whenDone: { action: 'notify' },
      tokenRenewMarginS: 120,
      retryBudgetHours: 6,
      duplicateCheck: 'upload',
      localServerPort: 0,
      relaySegmentMiB: 64,
      relayParallel: 1,
      relayAutoGiB: 2,
      relayAccountKey: false,
      shrink: 'auto',
      shrinkCacheGiB: 0,
    });
    expect(updateOf({ ...valid, bwlimit: ' ' }).bwlimit).toBe(0);
    expect(updateOf({ ...valid, shrink: 'qcow2', shrinkCacheGiB: '20' })).toMatchObject({
      shrink: 'qcow2',
      shrinkCacheGiB: 20,
    });
    expect(updateOf({ ...valid, shrinkCacheGiB: '' }).shrinkCacheGiB).toBe(0);
    expect(updateOf({ ...valid, bwSchedule: ' Mon-Fri 08:00,10M 18:00,off ' }).bwSchedule).toBe(
      'Mon-Fri 08:00,10M 18:00,off',
    );
    expect(settingsFormErrors({ ...valid, bwSchedule: 'Mon-Fri 25:00,10M' }).bwSchedule).toMatch(/not a time of day/);
    expect(updateOf({ ...valid, whenDone: 'command', whenDoneCommand: ' notify-send done ' }).whenDone).toEqual({
      action: 'command',
      command: 'notify-send done',
    });
    expect(settingsFormErrors({ ...valid, whenDone: 'command' }).whenDoneCommand).toMatch(/^The command/);
  });

  it('says what is wrong with each field, in the ranges the API accepts', () => {
    expect(
      Object.keys(
        settingsFormErrors({
          ...valid,
          concurrency: '17',
          bwlimit: '-1',
          margin: '10',
          retryHours: '0.1',
          port: '80',
          relaySegmentMiB: '0',
          relayParallel: '9',
          relayAutoGiB: '',
          shrinkCacheGiB: '-2',
        }),
      ).sort(),
    ).toEqual([
      'bwlimit',
      'concurrency',
      'margin',
      'port',
      'relayAutoGiB',
      'relayParallel',
      'relaySegmentMiB',
      'retryHours',
      'shrinkCacheGiB',
    ]);
  });
});
