/**
 * Desktop integration, drawn from the shared QueueStatusBoard: taskbar/dock progress on every
 * window, a tray icon whose tooltip is the queue's line, a notification when a job ends (a failed
 * one with "Retry" where the system shows actions, macOS; a click shows the window, whose toast has
 * it everywhere) and when the queue is done, and the question before quitting with uploads
 * unfinished. No decision is made here.
 */
import { app, BrowserWindow, dialog, Menu, Notification, Tray, nativeImage } from 'electron';
import type { JobUpdate, QueueDoneSummary } from '../../shared/dto';
import { queueDoneText } from '../../shared/queue-done-text';
import { QueueStatusBoard, quitQuestion } from '../../shared/queue-status';

export interface Desktop {
  jobUpdated: (u: JobUpdate) => void;
  queueDone: (s: QueueDoneSummary) => void;
  /** True when quitting may go on (nothing runs, or the user said so). */
  confirmQuit: (openTargets: number) => boolean;
  dispose: () => void;
}

export function createDesktop(
  iconPath: string,
  showWindow: () => void,
  retry: (targetIds: string[]) => void = () => undefined,
): Desktop {
  const notify = (o: { title: string; body: string; retry?: string[] }): void => {
    if (!Notification.isSupported()) return;
    const n = new Notification({
      title: o.title,
      body: o.body,
      ...(o.retry !== undefined && o.retry.length > 0 ? { actions: [{ type: 'button' as const, text: 'Retry' }] } : {}),
    });
    n.on('click', showWindow);
    n.on('action', () => retry(o.retry ?? []));
    n.show();
  };
  const board = new QueueStatusBoard();
  let tray: Tray | undefined;
  try {
    tray = new Tray(nativeImage.createFromPath(iconPath));
    tray.setToolTip(board.status().line);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Show Glance Uploader', click: showWindow },
        { type: 'separator' },
        { label: 'Quit', click: () => app.quit() },
      ]),
    );
    tray.on('click', showWindow);
  } catch {
    tray = undefined; // a desktop without a tray area: the window and notifications remain
  }
  return {
    jobUpdated: (u) => {
      const note = board.update(u);
      const { progress, line } = board.status();
      for (const w of BrowserWindow.getAllWindows()) w.setProgressBar(progress);
      tray?.setToolTip(line);
      if (note !== undefined) notify(note);
    },
    queueDone: (s) => notify(queueDoneText(s)),
    confirmQuit: (openTargets) => {
      const question = quitQuestion(openTargets);
      if (question === undefined) return true;
      const answer = dialog.showMessageBoxSync({
        type: 'question',
        buttons: ['Quit', 'Keep running'],
        defaultId: 1,
        cancelId: 1,
        title: 'Glance Uploader',
        message: question,
      });
      return answer === 0;
    },
    dispose: () => tray?.destroy(),
  };
}
