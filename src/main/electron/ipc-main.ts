/**
 * Binds the API to Electron IPC: one handler per contract method, each checking that the call
 * comes from our own page's main frame before it is passed on (to the engine's worker thread in
 * the app, which validates the arguments with `dispatch`).
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { API_METHODS, channelOf, type Envelope } from '../../shared/ipc/contract';

export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

/** Where a trusted call goes: answered as an envelope, never a throw (`dispatch`, or RuntimeClient.call). */
export type ApiCall = (method: string, args: unknown[]) => Promise<Envelope<unknown>>;

/** Only the main frame of a window showing our own renderer may call the API. */
export function ownMainFrame(isOwnUrl: (url: string) => boolean): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    return frame !== null && frame === event.sender.mainFrame && isOwnUrl(frame.url);
  };
}

export function registerApi(ipcMain: IpcMain, call: ApiCall, isTrusted: SenderCheck): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(channelOf(method), async (event, ...args: unknown[]): Promise<Envelope<unknown>> => {
      if (!isTrusted(event)) {
        return {
          error: { code: 'ipc.forbidden_sender', message: `Refused ${method}: the caller is not the app's own page.` },
        };
      }
      return call(method, args);
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(channelOf(method));
  };
}
