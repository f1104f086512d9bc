/**
 * What the app says when its engine cannot start (SQLite's native module missing for Electron's
 * ABI, a database it cannot open): a dialog with the message, what to do, the exact command and
 * the code, never a blank window or a silent exit. The words live here (tested in Node); the
 * Electron side only shows them.
 */
import type { ErrorInfo } from '../../../../shared/errors';

export interface StartupFailureDialog {
  title: string;
  message: string;
  detail: string;
  /** The command the first button copies, when there is one. */
  command: string | undefined;
  buttons: string[];
}

export function startupFailureDialog(e: ErrorInfo): StartupFailureDialog {
  const lines = [e.message];
  if (e.hint) lines.push('', e.hint);
  if (e.fix) lines.push('', 'Run this in a terminal, then start Glance Uploader again:', `  ${e.fix}`);
  lines.push('', `Error code: ${e.code}`);
  return {
    title: 'Glance Uploader cannot start',
    message: 'Glance Uploader cannot start its upload engine.',
    detail: lines.join('\n'),
    command: e.fix,
    buttons: e.fix ? ['Copy the command and quit', 'Quit'] : ['Quit'],
  };
}
