import type { ErrorCode, ErrorInfo } from '../../../shared/errors';

/** Every failure the engine reports on purpose: a stable code, a message, and what to do. */
export class EngineError extends Error {
  readonly info: ErrorInfo;

  constructor(
    code: ErrorCode,
    message: string,
    extra: Omit<ErrorInfo, 'code' | 'message'> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'EngineError';
    this.info = { code, message, ...extra };
  }

  get code(): ErrorCode {
    return this.info.code;
  }
}

/** Any thrown value as an ErrorInfo; unexpected ones become `internal`, never a crash. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof EngineError) return e.info;
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: 'internal',
    message: `Unexpected error: ${message}`,
    hint: 'This is a bug in Glance Uploader; please report it with the log.',
  };
}
