import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { JobUpdate, TargetSnapshot } from '../../../shared/dto';
import type { Api, ApiEvent } from '../../../shared/ipc/contract';
import { QueueModel } from '../lib/queue.svelte';
import QueuePage from './QueuePage.svelte';

const MiB = 1024 * 1024;

function target(
  id: string,
  region: string,
  state: TargetSnapshot['state'],
  extra: Partial<TargetSnapshot> = {},
): TargetSnapshot {
  return {
    id,
    cloud: 'prod',
    region,
    store: '',
    state,
    attempt: 1,
    bytesAccepted: 0,
    remoteImageId: null,
    error: null,
    nextAttemptAt: null,
    method: 'direct',
    verified: false,
    ...extra,
  };
}

function job(id: string, name: string, seq: number, targets: TargetSnapshot[]): JobUpdate {
  return { jobId: id, name, seq, size: 100 * MiB, sha512: null, targets };
}

function fakeApi(initial: JobUpdate[]): { api: Api; push: (e: ApiEvent) => void; control: ReturnType<typeof vi.fn> } {
  let listener: ((e: ApiEvent) => void) | undefined;
  const control = vi.fn(async () => null);
  const api = {
    listJobs: async () => initial,
    onEvent: (l: (e: ApiEvent) => void) => {
      listener = l;
      return () => (listener = undefined);
    },
    controlTarget: control,
    removeJob: vi.fn(async () => null),
    jobEvents: vi.fn(async () => []),
  } as unknown as Api;
  return { api, push: (e) => listener?.(e), control };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 40));

function rowOf(name: string): HTMLElement {
  const button = screen.getByRole('button', { name });
  return button.closest('[role="row"]') as HTMLElement;
}

describe('QueuePage rows', () => {
  it('shows each state with its actions, progress and error code', async () => {
    const { api } = fakeApi([
      job('j1', 'uploading-one', 1, [target('t1', 'R1', 'uploading', { bytesAccepted: 25 * MiB })]),
      job('j2', 'paused-one', 1, [target('t2', 'R1', 'paused', { bytesAccepted: 10 * MiB })]),
      job('j3', 'failed-one', 1, [
        target('t3', 'R1', 'done'),
        target('t4', 'R2', 'failed', { error: { code: 'glance.over_limit', message: 'Over quota.' } }),
      ]),
      job('j4', 'done-one', 1, [target('t5', 'R1', 'done'), target('t6', 'R2', 'done')]),
    ]);
    const queue = new QueueModel(api);
    render(QueuePage, { api, queue });
    await queue.start();
    await tick();
    const up = rowOf('uploading-one');
    expect(within(up).getByText('Uploading')).toBeTruthy();
    expect(within(up).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('25');
    expect(within(up).getByRole('button', { name: 'Pause uploading-one' })).toBeTruthy();
    const paused = rowOf('paused-one');
    expect(within(paused).getByText('Paused')).toBeTruthy();
    expect(within(paused).getByRole('button', { name: 'Resume paused-one' })).toBeTruthy();
    const failed = rowOf('failed-one');
    expect(within(failed).getByText('Failed')).toBeTruthy();
    expect(within(failed).getByText('glance.over_limit')).toBeTruthy();
    expect(within(failed).getByRole('button', { name: 'Retry failed-one' })).toBeTruthy();
    const done = rowOf('done-one');
    expect(within(done).getByText('Done')).toBeTruthy();
    expect(within(done).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(within(done).queryByRole('button', { name: /Pause|Retry/ })).toBeNull();
    expect(within(done).getByRole('button', { name: 'Remove done-one' })).toBeTruthy();
  });

  it('follows pushed updates, ignores older ones, notes a restart from zero, and filters', async () => {
    const { api, push } = fakeApi([
      job('j1', 'image-a', 1, [target('t1', 'R1', 'uploading', { bytesAccepted: 50 * MiB })]),
    ]);
    const queue = new QueueModel(api);
    render(QueuePage, { api, queue });
    await queue.start();
    await tick();
    push({
      kind: 'jobUpdated',
      update: job('j1', 'image-a', 3, [target('t1', 'R1', 'uploading', { bytesAccepted: 0 })]),
    });
    push({
      kind: 'jobUpdated',
      update: job('j1', 'image-a', 2, [target('t1', 'R1', 'paused', { bytesAccepted: 60 * MiB })]),
    });
    await tick();
    expect(within(rowOf('image-a')).getByText('Uploading')).toBeTruthy(); // seq 2 came late: ignored
    expect(queue.row('j1')?.restartNote).toMatch(/R1: started over from byte 0/);
    await fireEvent.click(screen.getByRole('button', { name: 'image-a' }));
    await tick();
    expect(screen.getByRole('note').textContent).toMatch(/cannot resume/);
    push({ kind: 'jobUpdated', update: job('j2', 'image-b', 1, [target('t2', 'R1', 'done')]) });
    await tick();
    await fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    await tick();
    expect(screen.queryByRole('button', { name: 'image-a' })).toBeNull();
    expect(screen.getByRole('button', { name: 'image-b' })).toBeTruthy();
  });

  it('acts on the selection: only targets for which the action makes sense', async () => {
    const { api, control } = fakeApi([
      job('j1', 'a', 1, [target('t1', 'R1', 'uploading'), target('t2', 'R2', 'done')]),
      job('j2', 'b', 1, [target('t3', 'R1', 'paused')]),
    ]);
    const queue = new QueueModel(api);
    render(QueuePage, { api, queue });
    await queue.start();
    await tick();
    await fireEvent.click(screen.getByRole('checkbox', { name: 'Select all shown' }));
    await tick();
    await fireEvent.click(screen.getByRole('button', { name: 'Pause selected' }));
    await tick();
    expect(control.mock.calls).toEqual([[{ targetId: 't1', action: 'pause' }]]);
  });
});
