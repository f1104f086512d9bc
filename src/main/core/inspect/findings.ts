/** What the format probes share: findings with their code and hint, and numbers read from 64-bit fields. */
import { basename } from 'node:path';
import type { Finding } from './types';

const MAX_U53 = BigInt(Number.MAX_SAFE_INTEGER);
export function num(v: bigint): number {
  return v > MAX_U53 ? Number.MAX_SAFE_INTEGER : Number(v);
}

export function finding(severity: Finding['severity'], code: Finding['code'], message: string, hint: string): Finding {
  return { severity, code, message, hint };
}

export function truncated(what: string, needed: number, size: number, path: string): Finding {
  return finding(
    'error',
    'inspect.truncated',
    `The ${what} ends at byte ${needed}, past the end of the file (${size} bytes): the file is truncated.`,
    `Copy or download ${basename(path)} again; \`qemu-img check ${basename(path)}\` confirms the damage.`,
  );
}

export const convertHint = (path: string, fmt: string, extra = ''): string =>
  `Make a self-contained copy: qemu-img convert -O ${fmt}${extra} ${basename(path)} ${basename(path).replace(/(\.[^.]+)?$/, `-flat.${fmt === 'vpc' ? 'vhd' : fmt}`)}`;
