/**
 * How a staged or replicated image reaches a region, as the user chooses it (sync, replicate,
 * auto-sync): `auto` lets the plan pick per region, `push` sends the bytes from the local copy,
 * `glance-download` has the region pull from another region of the same cloud. One list for the
 * IPC schemas, the settings, the planner and the CLI's `--method`.
 */
export const PLAN_METHODS = ['auto', 'push', 'glance-download'] as const;

export type PlanMethod = (typeof PLAN_METHODS)[number];

/**
 * An upload of a local file may also go through the region's object store (relay): resumable
 * at the segment. Not for sync or replicate, whose sources are not the user's files.
 */
export const UPLOAD_METHODS = [...PLAN_METHODS, 'relay'] as const;

export type UploadMethod = (typeof UPLOAD_METHODS)[number];
