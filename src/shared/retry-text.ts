/**
 * What a waiting target says, the same words in the app and the CLI:
 * "retrying in 40 s (attempt 5, 503 from Glance)".
 */
interface Waiting {
  state: string;
  attempt: number;
  nextAttemptAt: number | null;
  error: { code: string; message: string } | null;
}

const CAUSES: Record<string, string> = {
  'net.timeout': 'timed out',
  'net.unreachable': 'the cloud cannot be reached',
  'net.tls': 'a TLS failure',
  'auth.expired': '401 after signing in again',
  'transfer.hash_mismatch': 'the stored bytes did not match',
  'glance.wait_timeout': 'waited too long',
  'glance.import_stalled': 'the import made no progress',
  'local.not_running': 'the local server is not running',
};

/** The failure in a few words: the HTTP status when there was one, else what happened. */
export function failureCause(e: { code: string; message: string }): string {
  const status = /\bHTTP (\d{3})\b/.exec(e.message)?.[1];
  if (status !== undefined) return `${status} from Glance`;
  return CAUSES[e.code] ?? e.code;
}

function inWords(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** For a `retrying` target: when the next try goes, which try failed and why; else undefined. */
export function retryingText(t: Waiting, now: number): string | undefined {
  if (t.state !== 'retrying') return undefined;
  const wait = Math.max(0, Math.round(((t.nextAttemptAt ?? now) - now) / 1000));
  const cause = t.error !== null ? `, ${failureCause(t.error)}` : '';
  return `${wait === 0 ? 'retrying now' : `retrying in ${inWords(wait)}`} (attempt ${t.attempt}${cause})`;
}
