/** Glance v2 wire types the engine uses. */
import type { ImageStatus } from '../../../shared/dto';

/** The image document as Glance returns it (custom properties are flattened in). */
export interface GlanceImage {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: string;
  protected: boolean;
  os_hidden?: boolean;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  min_disk: number;
  min_ram: number;
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  created_at: string;
  updated_at: string;
  tags: string[];
  stores?: string;
  os_glance_importing_to_stores?: string;
  os_glance_failed_import?: string;
  [property: string]: unknown;
}

/** Everything a user can set at creation. Custom properties must be strings (Glance's schema). */
export interface CreateImageFields {
  id?: string;
  name?: string;
  visibility?: 'public' | 'private' | 'shared' | 'community';
  protected?: boolean;
  os_hidden?: boolean;
  min_disk?: number;
  min_ram?: number;
  disk_format?: string;
  container_format?: string;
  tags?: string[];
  properties?: Record<string, string>;
}

export type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

export interface SortKey {
  key: 'name' | 'status' | 'container_format' | 'disk_format' | 'size' | 'id' | 'created_at' | 'updated_at';
  dir?: 'asc' | 'desc';
}

export interface ListImagesQuery {
  name?: string;
  id?: string;
  status?: string;
  visibility?: 'public' | 'private' | 'shared' | 'community' | 'all';
  owner?: string;
  disk_format?: string;
  container_format?: string;
  os_hash_value?: string;
  checksum?: string;
  member_status?: 'pending' | 'accepted' | 'rejected' | 'all';
  size_min?: number;
  size_max?: number;
  protected?: boolean;
  os_hidden?: boolean;
  /** AND of tags. */
  tags?: string[];
  /** Exact match on custom properties. */
  properties?: Record<string, string>;
  sort?: SortKey[];
  /** Page size (Glance clamps it to api_limit_max). */
  limit?: number;
  /** Stop after this many images (all of them when unset). */
  max?: number;
}

export type ImportMethod =
  | { name: 'glance-direct' }
  | { name: 'web-download'; uri: string }
  | { name: 'copy-image' }
  | { name: 'glance-download'; glanceImageId: string; glanceRegion: string; glanceServiceInterface?: string };

export interface ImportRequest {
  method: ImportMethod;
  stores?: string[];
  allStores?: boolean;
  allStoresMustSucceed?: boolean;
}

export interface GlanceVersion {
  id: string;
  status: string;
}

export interface StoreInfo {
  id: string;
  description?: string;
  default: boolean;
}

export interface GlanceTask {
  id: string;
  type: string;
  status: string;
  message: string;
  created_at: string;
  updated_at: string;
  result?: unknown;
  input?: unknown;
}
