/**
 * Argument schemas of the IPC contract, used by main to validate every call before a handler
 * runs. Kept apart from contract.ts so that the sandboxed preload and the renderer never load
 * zod at run time (contract.ts only takes their types).
 */
import { z } from 'zod';

const cloudName = z.string().min(1).max(255);
const regionId = z.string().min(1).max(255);

export const apiArgSchemas = {
  listClouds: z.tuple([]),
  listRegions: z.tuple([z.object({ cloud: cloudName }).strict()]),
  listImages: z.tuple([z.object({ cloud: cloudName, region: regionId }).strict()]),
} as const;
