/**
 * How a staged or replicated image reaches a region, as the user chooses it (sync, replicate,
 * auto-sync): `auto` lets the plan pick per region, `push` sends the bytes from the local copy,
 * `glance-download` has the region pull from another region of the same cloud. One list for the
 * IPC schemas, the settings, the planner and the CLI's `--method`.
 */
export const PLAN_METHODS = ['auto', 'push', 'glance-download'] as const;

export type PlanMethod = (typeof PLAN_METHODS)[number];
