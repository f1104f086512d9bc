/**
 * Argument schemas of the IPC contract, used by main to validate every call before a handler
 * runs. Kept apart from contract.ts so that the sandboxed preload and the renderer never load
 * zod at run time (contract.ts only takes their types).
 */
import { z } from 'zod';
import { parseSchedule } from '../bandwidth-schedule';
import { isLocalCloud, LOCAL_CLOUD } from '../local-cloud';
import { PLAN_METHODS, UPLOAD_METHODS } from '../plan-methods';

/** POSIX or Windows absolute paths (the renderer may not import node:path). */
const isAbsolute = (p: string): boolean => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');

const cloudName = z.string().min(1).max(255);
const regionId = z.string().min(1).max(255);

/** Image metadata of an upload: the template, and each file's overrides. */
const imageFields = {
  diskFormat: z.string().min(1).max(32).optional(),
  containerFormat: z.string().min(1).max(32).optional(),
  visibility: z.enum(['private', 'shared', 'community', 'public']).optional(),
  minDisk: z.int().min(0).optional(),
  minRam: z.int().min(0).optional(),
  protected: z.boolean().optional(),
  tags: z.array(z.string().min(1).max(255)).max(128).optional(),
  properties: z.record(z.string().min(1).max(255), z.string().max(65535)).optional(),
};

/** Where leftovers are looked for: the listing, and the fresh look a deletion takes first. */
const leftoverScope = {
  cloud: cloudName,
  regions: z.array(regionId).max(50).optional(),
  olderThanHours: z
    .number()
    .min(0)
    .max(24 * 365)
    .optional(),
};

export const apiArgSchemas = {
  listClouds: z.tuple([]),
  listRegions: z.tuple([z.object({ cloud: cloudName }).strict()]),
  listImages: z.tuple([z.object({ cloud: cloudName, region: regionId }).strict()]),
  listJobs: z.tuple([]),
  transferStatus: z.tuple([]),
  listProfiles: z.tuple([]),
  imageMetadefs: z.tuple([z.object({ cloud: cloudName, region: regionId }).strict()]),
  saveProfile: z.tuple([
    z
      .object({
        id: z.string().min(1).max(64),
        text: z
          .string()
          .min(2)
          .max(1024 * 1024),
      })
      .strict(),
  ]),
  listLeftovers: z.tuple([z.object(leftoverScope).strict()]),
  deleteLeftovers: z.tuple([
    z
      .object({
        ...leftoverScope,
        images: z
          .array(z.object({ region: regionId, id: z.string().min(1).max(64) }).strict())
          .min(1)
          .max(500),
      })
      .strict(),
  ]),
  ignoreLeftovers: z.tuple([
    z.object({ ids: z.array(z.string().min(1).max(64)).min(1).max(500), ignore: z.boolean() }).strict(),
  ]),
  controlTarget: z.tuple([
    z.object({ targetId: z.string().min(4).max(64), action: z.enum(['pause', 'resume', 'cancel', 'retry']) }).strict(),
  ]),
  getSettings: z.tuple([]),
  setAllowPlaintextSecrets: z.tuple([z.object({ allow: z.boolean() }).strict()]),
  saveCloud: z.tuple([
    z
      .object({
        name: cloudName.refine(
          (n) => !isLocalCloud(n),
          `the names "${LOCAL_CLOUD}" and "${LOCAL_CLOUD}-admin" are the local server's`,
        ),
        authUrl: z.url({ protocol: /^https?$/ }),
        username: z.string().min(1).max(255).optional(),
        password: z.string().min(1).max(4096).optional(),
        projectName: z.string().min(1).max(255).optional(),
        userDomain: z.string().min(1).max(255).optional(),
        projectDomain: z.string().min(1).max(255).optional(),
        projectId: z.string().min(1).max(255).optional(),
        userDomainId: z.string().min(1).max(255).optional(),
        projectDomainId: z.string().min(1).max(255).optional(),
        region: regionId.optional(),
        applicationCredentialId: z.string().min(1).max(255).optional(),
        applicationCredentialSecret: z.string().min(1).max(4096).optional(),
      })
      .strict(),
  ]),
  forgetCloud: z.tuple([z.object({ name: cloudName }).strict()]),
  replicateImage: z.tuple([
    z
      .object({
        cloud: cloudName.refine((n) => !isLocalCloud(n), 'replicate works between regions of a cloud'),
        imageId: z.string().min(1).max(64),
        from: regionId,
        to: z.array(regionId).min(1).max(20),
        stores: z.array(z.string().min(1).max(255)).max(10).optional(),
        method: z.enum(PLAN_METHODS).optional(),
        sameId: z.boolean().optional(),
        keepLocal: z.boolean().optional(),
      })
      .strict(),
  ]),
  listStaged: z.tuple([]),
  syncStaged: z.tuple([
    z
      .object({
        imageIds: z.array(z.uuid()).max(500).optional(),
        cloud: cloudName.refine((n) => !isLocalCloud(n), `staged images go to a cloud, not to "${LOCAL_CLOUD}"`),
        regions: z.array(regionId).min(1).max(20),
        stores: z.array(z.string().min(1).max(255)).max(10).optional(),
        method: z.enum(PLAN_METHODS).optional(),
        removeLocal: z.boolean().optional(),
        sameId: z.boolean().optional(),
      })
      .strict(),
  ]),
  setAutoSync: z.tuple([
    z
      .object({
        cloud: cloudName.refine((n) => !isLocalCloud(n), `staged images go to a cloud, not to "${LOCAL_CLOUD}"`),
        regions: z.array(regionId).min(1).max(20),
        stores: z.array(z.string().min(1).max(255)).max(10),
        method: z.enum(PLAN_METHODS),
        removeLocal: z.boolean(),
      })
      .strict()
      .nullable(),
  ]),
  enqueueUploads: z.tuple([
    z
      .object({
        images: z
          .array(
            z
              .object({
                path: z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path'),
                name: z.string().min(1).max(255).optional(),
                // Per-file values over the template (the form's overrides).
                ...imageFields,
              })
              .strict(),
          )
          .min(1)
          .max(500),
        cloud: cloudName,
        regions: z.array(regionId).min(1).max(20),
        stores: z.array(z.string().min(1).max(255)).max(10).optional(),
        method: z.enum(UPLOAD_METHODS).optional(),
        ...imageFields,
        sameId: z.boolean().optional(),
        bwlimit: z.int().min(1).optional(),
        allowFormatMismatch: z.boolean().optional(),
        /** A metadata profile every image must meet (checked before anything is queued). */
        profile: z.string().min(1).max(64).optional(),
        /** Raw files as a compressed qcow2: auto (the setting's default), qcow2, off. */
        shrink: z.enum(['auto', 'qcow2', 'off']).optional(),
      })
      .strict(),
  ]),
  parseCloudConfig: z.tuple([
    z
      .object({
        format: z.enum(['clouds.yaml', 'openrc']),
        text: z.string().max(1024 * 1024),
        fileName: z.string().min(1).max(255).optional(),
      })
      .strict(),
  ]),
  testConnection: z.tuple([z.object({ cloud: cloudName }).strict()]),
  imageSchema: z.tuple([z.object({ cloud: cloudName, region: regionId }).strict()]),
  inspectFiles: z.tuple([
    z
      .object({ paths: z.array(z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path')).min(1).max(500) })
      .strict(),
  ]),
  removeJob: z.tuple([z.object({ jobId: z.string().min(4).max(64) }).strict()]),
  jobEvents: z.tuple([z.object({ jobId: z.string().min(4).max(64) }).strict()]),
  listActivity: z.tuple([z.object({ limit: z.int().min(1).max(5000).optional() }).strict()]),
  exportActivity: z.tuple([z.object({ format: z.enum(['csv', 'json']) }).strict()]),
  switchProject: z.tuple([z.object({ cloud: cloudName, projectId: z.string().min(1).max(64) }).strict()]),
  probeConversion: z.tuple([z.object({ cloud: cloudName, region: regionId }).strict()]),
  scanData: z.tuple([z.object({ path: z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path') }).strict()]),
  catalogPlan: z.tuple([
    z.object({ path: z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path') }).strict(),
  ]),
  catalogApply: z.tuple([
    z.object({ path: z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path') }).strict(),
  ]),
  runDoctor: z.tuple([
    z
      .object({
        cloud: cloudName,
        region: regionId.optional(),
        horizonOrigin: z
          .url({ protocol: /^https?$/ })
          .refine((u) => new URL(u).origin === u.replace(/\/+$/, ''), 'an origin: scheme, host and port only')
          .optional(),
        probeMiB: z.number().min(0).max(1024).optional(),
      })
      .strict(),
  ]),
  updateSettings: z.tuple([
    z
      .object({
        concurrency: z.int().min(1).max(16).optional(),
        bwlimit: z
          .int()
          .min(0)
          .max(100 * 1000 * 1000 * 1000)
          .optional(),
        bwSchedule: z
          .string()
          .max(4096)
          .superRefine((text, ctx) => {
            const r = text.trim() === '' ? undefined : parseSchedule(text);
            if (r !== undefined && 'error' in r) ctx.addIssue({ code: 'custom', message: r.error });
          })
          .optional(),
        whenDone: z
          .discriminatedUnion('action', [
            z.object({ action: z.literal('notify') }).strict(),
            z.object({ action: z.literal('sleep') }).strict(),
            z.object({ action: z.literal('command'), command: z.string().trim().min(1).max(4096) }).strict(),
          ])
          .optional(),
        tokenRenewMarginS: z.int().min(30).max(3600).optional(),
        retryBudgetHours: z
          .number()
          .min(0.25)
          .max(24 * 30)
          .optional(),
        duplicateCheck: z.enum(['reuse', 'upload']).optional(),
        localServerPort: z
          .int()
          .min(0)
          .max(65535)
          .refine((p) => p === 0 || p >= 1024, 'a port from 1024, or 0 for any free port')
          .optional(),
        relaySegmentMiB: z.int().min(1).max(5120).optional(),
        relayParallel: z.int().min(1).max(8).optional(),
        relayAutoGiB: z.number().min(0).max(100_000).optional(),
        relayAccountKey: z.boolean().optional(),
        shrink: z.enum(['auto', 'qcow2', 'off']).optional(),
        shrinkCacheGiB: z.number().min(0).max(1_000_000).optional(),
      })
      .strict(),
  ]),
} as const;
