/** The Catalog screen's flows, without the screen: the model against a stubbed API. */
import { describe, expect, it, vi } from 'vitest';
import type { CatalogPlanDto } from '../../../shared/catalog-dto';
import { ApiError } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { stubHandlers } from '../../../../test/support/api-stubs';
import { CatalogModel } from './catalog.svelte';

function apiWith(overrides: Parameters<typeof stubHandlers>[0]): Api {
  return { ...stubHandlers(overrides), onEvent: () => () => undefined } as unknown as Api;
}

const action = (kind: 'upload' | 'hide' | 'note', drift = false) => ({
  kind,
  cloud: 'prod',
  region: 'R1',
  family: 'deb',
  version: '2',
  imageId: null,
  what: 'x',
  why: 'y',
  drift,
  afterUpload: false,
});

const plan = (changes: number, actions = [action('upload')]): CatalogPlanDto => ({
  catalog: 'acme',
  path: '/c.yaml',
  changes,
  regions: [{ cloud: 'prod', region: 'R1', actions }],
});

describe('CatalogModel', () => {
  it('shows the plan and counts drift; an empty path is refused without a call', async () => {
    const catalogPlan = vi.fn(async () => plan(2, [action('hide', true), action('note', true), action('upload')]));
    const m = new CatalogModel(apiWith({ catalogPlan }));
    await m.refresh();
    expect(m.error?.code).toBe('usage');
    expect(catalogPlan).not.toHaveBeenCalled();
    m.path = ' /c.yaml ';
    await m.refresh();
    expect(catalogPlan).toHaveBeenCalledWith({ path: '/c.yaml' });
    expect([m.plan?.changes, m.drift, m.error]).toEqual([2, 2, undefined]);
  });

  // Fails if one click applied (nothing may change without a second, explicit click).
  it('applies only after a second click, then shows the plan after it', async () => {
    const catalogApply = vi.fn(async () => ({ jobIds: ['j'], refused: [], steps: [], final: plan(0, []) }));
    const m = new CatalogModel(apiWith({ catalogPlan: async () => plan(1), catalogApply }));
    m.path = '/c.yaml';
    await m.refresh();
    await m.apply();
    expect([m.confirming, catalogApply.mock.calls.length]).toEqual([true, 0]);
    await m.apply();
    expect(catalogApply).toHaveBeenCalledWith({ path: '/c.yaml' });
    expect([m.result?.jobIds, m.plan?.changes, m.applying]).toEqual([['j'], 0, false]);
  });

  it('keeps the problems of a bad catalog, with their line and column', async () => {
    const problems = [{ line: 3, column: 12, path: 'targets.0.cloud', message: 'no cloud "x"' }];
    const m = new CatalogModel(
      apiWith({
        catalogPlan: async () => {
          throw new ApiError({ code: 'catalogfile.invalid', message: 'c.yaml has a problem', problems });
        },
      }),
    );
    m.path = '/c.yaml';
    await m.refresh();
    expect([m.error?.code, m.error?.problems, m.plan]).toEqual(['catalogfile.invalid', problems, undefined]);
  });
});
