/**
 * The application API behind `window.api`, independent of any transport: validates the
 * arguments of each call against the shared contract and answers an envelope, never a throw.
 * Electron's ipcMain (src/main/electron/ipc-main.ts) and the browser-test bridge both call
 * `dispatch`.
 */
import {
  API_METHODS,
  type ApiArgs,
  type ApiMethod,
  type ApiResults,
  type Envelope,
} from '../../../shared/ipc/contract';
import { apiArgSchemas } from '../../../shared/ipc/contract-schemas';
import type { Engine } from '../engine';
import { EngineError, toErrorInfo } from '../errors';

export type ApiHandlers = { [M in ApiMethod]: (...args: ApiArgs[M]) => Promise<ApiResults[M]> };

export function createApiHandlers(engine: Engine): ApiHandlers {
  return {
    listClouds: async () => engine.listClouds(),
    listRegions: async ({ cloud }) => engine.listRegions(cloud),
    listImages: async ({ cloud, region }) => engine.listImages(cloud, region),
  };
}

function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && (API_METHODS as readonly string[]).includes(m);
}

export async function dispatch(handlers: ApiHandlers, method: unknown, args: unknown): Promise<Envelope<unknown>> {
  try {
    if (!isApiMethod(method)) {
      throw new EngineError('ipc.unknown_method', `Unknown API method ${JSON.stringify(method)}.`, {
        hint: 'The renderer and main process are out of step; restart the app.',
      });
    }
    const parsed = apiArgSchemas[method].safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new EngineError(
        'ipc.invalid_argument',
        `Invalid arguments for ${method}${where}: ${issue?.message ?? 'rejected'}.`,
        {
          hint: 'The call did not match the API contract.',
        },
      );
    }
    const handler = handlers[method] as (...a: unknown[]) => Promise<unknown>;
    return { result: await handler(...(parsed.data as unknown[])) };
  } catch (e) {
    return { error: toErrorInfo(e) };
  }
}
