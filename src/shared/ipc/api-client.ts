/**
 * Builds the typed `window.api` from a transport. The preload passes Electron's ipcRenderer;
 * the browser tests pass a bridge to a real engine. Either way, an `{error}` envelope becomes
 * a thrown ApiError with its stable code.
 */
import { ApiError, isErrorCode } from '../errors';
import { API_METHODS, type Api, type ApiMethod, type Envelope } from './contract';

export type Transport = (method: ApiMethod, args: unknown[]) => Promise<Envelope<unknown>>;

export function createApi(transport: Transport): Api {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of API_METHODS) {
    api[method] = async (...args: unknown[]): Promise<unknown> => {
      const envelope = await transport(method, args);
      if ('error' in envelope) {
        const e = envelope.error;
        throw new ApiError({ ...e, code: isErrorCode(e.code) ? e.code : 'internal' });
      }
      return envelope.result;
    };
  }
  return Object.freeze(api) as Api;
}
