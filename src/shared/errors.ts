/**
 * Stable error codes. Callers (the UI, the CLI's exit status, retry logic) branch on `code`,
 * never on message text. A message says what happened; a hint says what to do about it.
 */
export const ERROR_CODES = [
  // configuration (clouds.yaml, OS_* variables)
  'config.not_found',
  'config.invalid',
  'config.cloud_not_found',
  'config.unsupported',
  // identity
  'auth.failed',
  'auth.forbidden',
  'auth.expired',
  'auth.invalid_response',
  'auth.cannot_switch_project',
  // service catalog
  'catalog.no_image_service',
  'catalog.region_not_found',
  // network
  'net.unreachable',
  'net.timeout',
  'net.tls',
  // Glance
  'glance.not_found',
  'glance.conflict',
  'glance.forbidden',
  'glance.over_limit',
  'glance.bad_request',
  'glance.unavailable',
  'glance.http',
  'glance.import_failed',
  'glance.method_not_offered',
  'glance.wait_timeout',
  'glance.import_stalled',
  'glance.checksum_mismatch',
  'glance.invalid_response',
  /** Glance's web-download URL filter ([import_filtering_opts]) refused a URL. */
  'glance.url_filtered',
  // the region's object store (Swift), which the relay method goes through
  'objectstore.not_offered',
  'objectstore.forbidden',
  'objectstore.over_quota',
  'objectstore.unavailable',
  'objectstore.http',
  'objectstore.etag_mismatch',
  'objectstore.temp_url_key_missing',
  'objectstore.temp_url_rejected',
  // local database and queue
  'db.too_new',
  'db.migration_failed',
  'db.unavailable',
  // installation: the native SQLite module per runtime, Electron's binary, Node's version
  'setup.native_unavailable',
  'setup.native_build_failed',
  'setup.electron_missing',
  'setup.node_version',
  'queue.not_found',
  'queue.invalid_transition',
  'queue.invalid_job',
  'queue.lease_held',
  // source files and transfers
  'source.not_found',
  'source.unreadable',
  'source.changed',
  'source.digest_mismatch',
  'transfer.hash_mismatch',
  'transfer.aborted',
  'transfer.source_unavailable',
  // shrink: a compressed qcow2 made locally with qemu-img, sent in place of a raw file
  'shrink.tool_missing',
  'shrink.no_space',
  'shrink.failed',
  // saved secrets (OS keychain in the app, a passphrase in the CLI)
  'secrets.unavailable',
  'secrets.plaintext_refused',
  'secrets.undecryptable',
  // the local server (staging) and sync
  'local.not_running',
  'staged.not_found',
  'staged.not_ready',
  // disk image inspection (errors refuse the image; the others are warnings and notes)
  'inspect.not_a_disk_image',
  'inspect.compressed',
  'inspect.format_mismatch',
  'inspect.backing_file',
  'inspect.data_file',
  'inspect.external_extent',
  'inspect.unknown_features',
  'inspect.unsupported_subformat',
  'inspect.unsafe_format',
  'inspect.invalid',
  'inspect.truncated',
  'inspect.encrypted',
  'inspect.empty',
  'inspect.dirty',
  'inspect.zstd_compression',
  'inspect.partition_table',
  'inspect.partition_table_suspect',
  'inspect.hybrid_iso',
  'inspect.vhd_fixed',
  'inspect.ova',
  // metadata profiles (required properties; shipped or the user's JSON Schema files)
  /** No profile of that id (shipped or in the data folder's profiles/). */
  'metadata.profile_unknown',
  /** A profile file that is not a profile: its problem is said. */
  'metadata.profile_invalid',
  /** An image lacks a property the chosen profile requires, or has a value it does not allow. */
  'metadata.profile_unmet',
  // the image catalog (plan, apply): the file, its sources, and what the clouds hold
  'catalogfile.not_found',
  'catalogfile.invalid',
  'catalogfile.source',
  /** The catalog's image for a version was deleted: Glance never gives its id again. */
  'catalogfile.id_spent',
  // the janitor (half-made images): what may be deleted
  /** The image is not one of the half-made images listed (any more). */
  'janitor.not_listed',
  /** The queue still works on the image: cancel its job first. */
  'janitor.in_use',
  // the command line: bad arguments (exit status 2)
  'usage',
  // IPC boundary
  'ipc.invalid_argument',
  'ipc.unknown_method',
  'ipc.forbidden_sender',
  'ipc.engine_stopped',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error as it crosses a process boundary (IPC, CLI --json, logs). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  hint?: string;
  /** HTTP status, when the error came from an HTTP answer. */
  status?: number;
  /** X-OpenStack-Request-ID of the failed call, for the cloud operator's logs. */
  requestId?: string;
  /** The exact command that fixes it, when one does (shown apart so it can be copied). */
  fix?: string;
  /** A file refused for what it says (a catalog): each problem where it is. */
  problems?: CatalogProblem[];
}

/** One problem of a file, at its line and column (1-based), with the path of the value. */
export interface CatalogProblem {
  line: number;
  column: number;
  path: string;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** The error the renderer (and any client of the API) sees: a real Error with the code on it. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  /** A file's problems at their line and column (a catalog). */
  readonly problems: CatalogProblem[] | undefined;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    this.hint = info.hint;
    this.status = info.status;
    this.requestId = info.requestId;
    this.problems = info.problems;
  }
}
