/**
 * The image catalog as the app shows it: a plan (what would change in each cloud and region, each
 * step with its reason, drift marked) and what an apply did. Made by core/catalog, drawn by the
 * renderer's Catalog screen.
 */
import type { ErrorInfo } from './errors';

export type CatalogActionKind =
  | 'upload'
  | 'rename'
  | 'hide'
  | 'show'
  | 'visibility'
  | 'update'
  | 'deactivate'
  | 'reactivate'
  | 'share'
  | 'accept'
  | 'unprotect'
  | 'delete'
  | 'adopt'
  | 'note';

/** How a plan marks a step, as `terraform plan` does: + made, ~ changed, - deleted, ! noted and left alone. */
export const CATALOG_SIGN: Record<CatalogActionKind, string> = {
  upload: '+',
  adopt: '~',
  rename: '~',
  hide: '~',
  show: '~',
  visibility: '~',
  update: '~',
  deactivate: '~',
  reactivate: '~',
  share: '~',
  accept: '~',
  unprotect: '~',
  delete: '-',
  note: '!',
};

export interface CatalogActionDto {
  kind: CatalogActionKind;
  cloud: string;
  region: string;
  family: string;
  version: string | null;
  imageId: string | null;
  what: string;
  why: string;
  drift: boolean;
  afterUpload: boolean;
}

export interface CatalogPlanDto {
  catalog: string;
  path: string;
  /** Everything but notes. */
  changes: number;
  /** Grouped by cloud and region, in the plan's order. */
  regions: { cloud: string; region: string; actions: CatalogActionDto[] }[];
}

export interface CatalogStepDto {
  action: CatalogActionDto;
  error: ErrorInfo | null;
}

export interface CatalogApplyResult {
  jobIds: string[];
  /** Versions not queued (a refused file, or the same source whose last try failed), with why. */
  refused: { family: string; version: string; error: ErrorInfo }[];
  steps: CatalogStepDto[];
  /** The plan after the apply: its changes are what could not be made. */
  final: CatalogPlanDto;
}
