/** Any failure as the ErrorInfo the UI shows: an ApiError keeps its code, hint and request id. */
import { ApiError, type ErrorInfo } from '../../../shared/errors';

export function asErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof ApiError)
    return {
      code: e.code,
      message: e.message,
      hint: e.hint,
      status: e.status,
      requestId: e.requestId,
      ...(e.problems !== undefined ? { problems: e.problems } : {}),
    };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}
