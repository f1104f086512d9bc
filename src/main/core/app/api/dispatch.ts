/**
 * The one entry of the application API for every transport (Electron's ipcMain in
 * src/main/electron/ipc-main.ts, the browser-test bridge): the method checked against the
 * contract, the arguments validated by its schema, and an envelope answered, never a throw.
 */
import { API_METHODS, type ApiMethod, type Envelope } from '../../../../shared/ipc/contract';
import { apiArgSchemas } from '../../../../shared/ipc/contract-schemas';
import { EngineError, toErrorInfo } from '../../io/errors';
import type { ApiHandlers } from './api-service';

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
