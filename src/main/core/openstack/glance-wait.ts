/**
 * Follows an image to a target state with backoff, reporting what Glance says on the way.
 * Real Glance does not reset an image reliably after a failed import (it can stay `importing`,
 * or go back to `queued` with os_glance_failed_import set), so besides the status this watches
 * os_glance_failed_import and the image's import tasks, and treats a task failure as final.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../io/errors';
import type { GlanceClient } from './glance-client';
import type { GlanceImage, GlanceTask } from './glance-types';

export interface WaitProgress {
  status: string;
  importingToStores: string[];
  failedImport: string[];
  stores: string[];
  elapsedMs: number;
}

export interface WaitOptions {
  /** Done when this holds (default: status is active and no store is still importing). */
  until?: (image: GlanceImage) => boolean;
  timeoutMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** An import was requested at this time: its task failing, or a failed store, is final. */
  importStartedAt?: number;
  /**
   * With importStartedAt: an import that shows no change (the image's status and stores, its
   * task's status and update time) for this long is stuck: `glance.import_stalled`, with what
   * the task and the image say. Clouds leave imports `processing` for ever; waiting the whole
   * timeout for them helps nobody.
   */
  stallMs?: number;
  /**
   * What an earlier import of the same image left, seen before this one was asked: the stores
   * os_glance_failed_import still lists, and its tasks. Only this import's own task says
   * whether it failed.
   */
  before?: { failedStores: readonly string[]; taskIds: readonly string[] };
  onProgress?: (p: WaitProgress) => void;
  signal?: AbortSignal;
}

export const list = (v: unknown): string[] =>
  typeof v === 'string' && v.trim() !== ''
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

export function progressOf(img: GlanceImage, elapsedMs: number): WaitProgress {
  return {
    status: img.status,
    importingToStores: list(img.os_glance_importing_to_stores),
    failedImport: list(img.os_glance_failed_import),
    stores: list(img.stores),
    elapsedMs,
  };
}

const FINAL_BAD = new Set(['killed', 'deleted', 'pending_delete']);

export function activeEverywhere(img: GlanceImage): boolean {
  return img.status === 'active' && list(img.os_glance_importing_to_stores).length === 0;
}

/** Done when the image is active in all these stores and imports nowhere. */
export function inStores(stores: string[]): (img: GlanceImage) => boolean {
  return (img) => activeEverywhere(img) && stores.every((s) => list(img.stores).includes(s));
}

/** Task rows come without a zone ("2026-11-22T02:03:56.891709"): they are UTC. */
const taskTime = (s: string): number => Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);

/** The import's tasks (those made since it was requested), newest first. */
async function importTasks(glance: GlanceClient, id: string, since: number): Promise<GlanceTask[]> {
  return (await glance.imageTasks(id)).filter((x) => taskTime(x.created_at) >= since - 2000);
}

/** What a stuck import looks like, for the user: the image, its stores, its newest task. */
export function stallDiagnosis(img: GlanceImage, task: GlanceTask | undefined, quietMs: number): string {
  const failed = list(img.os_glance_failed_import);
  const importing = list(img.os_glance_importing_to_stores);
  const parts = [`image ${img.status}`];
  if (importing.length > 0) parts.push(`importing to ${importing.join(', ')}`);
  if (failed.length > 0) parts.push(`failed for ${failed.join(', ')}`);
  parts.push(
    task === undefined
      ? 'no import task recorded'
      : `task ${task.id} ${task.status} since ${task.updated_at}${task.message ? `: ${task.message}` : ''}`,
  );
  return `The import of image ${img.id} made no progress for ${Math.round(quietMs / 1000)} s (${parts.join('; ')}).`;
}

/** The newest task of an import under way; an import that failed (a store or its task) throws. */
async function importTask(
  glance: GlanceClient,
  id: string,
  img: GlanceImage,
  p: ReturnType<typeof progressOf>,
  startedAt: number,
  before: WaitOptions['before'],
): Promise<GlanceTask | undefined> {
  const failed = p.failedImport.filter((s) => !(before?.failedStores ?? []).includes(s));
  if (failed.length > 0 && p.importingToStores.length === 0) {
    throw new EngineError(
      'glance.import_failed',
      `The import of image ${id} failed for store(s) ${failed.join(', ')}.`,
      {
        hint: 'Look at the import task for the reason; delete the image and create it again.',
      },
    );
  }
  const tasks = (await importTasks(glance, id, startedAt)).filter((x) => !(before?.taskIds ?? []).includes(x.id));
  const failure = tasks.find((x) => x.status === 'failure');
  if (failure !== undefined) {
    throw new EngineError(
      'glance.import_failed',
      `The import of image ${id} failed: ${failure.message || 'the import task failed'}`,
      { hint: `The image stays ${img.status} until deleted: delete it and create it again.` },
    );
  }
  return tasks[0];
}

/** A stalled import (no change for `stallMs`) or the absolute timeout ends the wait with its code. */
function checkPatience(
  id: string,
  img: GlanceImage,
  task: GlanceTask | undefined,
  quietMs: number,
  elapsedMs: number,
  options: WaitOptions,
): void {
  if (options.importStartedAt !== undefined && options.stallMs !== undefined && quietMs > options.stallMs)
    throw new EngineError('glance.import_stalled', stallDiagnosis(img, task, quietMs), {
      hint: 'The image is deleted and the import made again; a region that keeps doing this needs its operator (look at glance-api.log for that task).',
    });
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  if (elapsedMs > timeoutMs)
    throw new EngineError(
      'glance.wait_timeout',
      `Image ${id} was still ${img.status} after ${Math.round(timeoutMs / 1000)} s.`,
      {
        hint: 'Glance may be busy; look at the image later, or at its tasks.',
      },
    );
}

export async function waitForImage(glance: GlanceClient, id: string, options: WaitOptions = {}): Promise<GlanceImage> {
  const until = options.until ?? activeEverywhere;
  const t0 = Date.now();
  let delay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 5000;
  let lastProgress = '';
  let last = '';
  let changedAt = Date.now();
  for (;;) {
    const img = await glance.findImage(id);
    if (img === undefined)
      throw new EngineError('glance.not_found', `Image ${id} disappeared while waiting for it.`, {
        hint: 'Someone deleted it; create it again.',
      });
    const p = progressOf(img, Date.now() - t0);
    const progress = JSON.stringify([p.status, p.importingToStores, p.failedImport, p.stores]);
    if (progress !== lastProgress) {
      options.onProgress?.(p);
      lastProgress = progress;
    }
    if (until(img)) return img;
    if (FINAL_BAD.has(img.status)) {
      throw new EngineError('glance.import_failed', `Image ${id} went to status ${img.status}.`, {
        hint: 'Delete it and create it again.',
      });
    }
    const task =
      options.importStartedAt === undefined
        ? undefined
        : await importTask(glance, id, img, p, options.importStartedAt, options.before);
    // Progress for the stall clock: what the image shows, and the task's own updates.
    const key = `${progress}${task?.status ?? ''}${task?.updated_at ?? ''}${task?.message ?? ''}`;
    if (key !== last) {
      last = key;
      changedAt = Date.now();
    }
    checkPatience(id, img, task, Date.now() - changedAt, Date.now() - t0, options);
    await sleep(delay, undefined, { signal: options.signal });
    delay = Math.min(maxDelay, Math.round(delay * 1.5));
  }
}
