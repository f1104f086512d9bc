/**
 * Both halves of the renderer's API, built from the contract's method list:
 * - createBridge (in the preload, or the browser-test bridge): one method per contract entry
 *   that sends the call over a transport and answers the envelope as plain data;
 * - createApi (in the renderer's own world): unwraps envelopes, throwing an ApiError with the
 *   stable code, so `instanceof ApiError` and `err.code` work where the UI needs them.
 */
import { ApiError, isErrorCode } from '../errors';
import { API_METHODS, type Api, type ApiMethod, type Bridge, type Envelope } from './contract';

export type Transport = (method: ApiMethod, args: unknown[]) => Promise<Envelope<unknown>>;

export function createBridge(transport: Transport): Bridge {
  const bridge: Record<string, (...args: unknown[]) => Promise<Envelope<unknown>>> = {};
  for (const method of API_METHODS) bridge[method] = (...args: unknown[]) => transport(method, args);
  return Object.freeze(bridge) as Bridge;
}

export function createApi(bridge: Bridge): Api {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of API_METHODS) {
    const call = bridge[method] as (...args: unknown[]) => Promise<Envelope<unknown>>;
    api[method] = async (...args: unknown[]): Promise<unknown> => {
      const envelope = await call(...args);
      if ('error' in envelope) {
        const e = envelope.error;
        throw new ApiError({ ...e, code: isErrorCode(e.code) ? e.code : 'internal' });
      }
      return envelope.result;
    };
  }
  return Object.freeze(api) as Api;
}
