/**
 * Binds the API service to Electron IPC: one handler per contract method, each checking that
 * the call comes from our own page's main frame before the API service validates the arguments.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { API_METHODS, channelOf, type Envelope } from '../../shared/ipc/contract';
import { dispatch, type ApiHandlers } from '../core/api/api-service';

export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

/** Only the main frame of a window showing our own renderer may call the API. */
export function ownMainFrame(isOwnUrl: (url: string) => boolean): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    return frame !== null && frame === event.sender.mainFrame && isOwnUrl(frame.url);
  };
}

export function registerApi(ipcMain: IpcMain, handlers: ApiHandlers, isTrusted: SenderCheck): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(channelOf(method), async (event, ...args: unknown[]): Promise<Envelope<unknown>> => {
      if (!isTrusted(event)) {
        return {
          error: { code: 'ipc.forbidden_sender', message: `Refused ${method}: the caller is not the app's own page.` },
        };
      }
      return dispatch(handlers, method, args);
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(channelOf(method));
  };
}
