/**
 * The embedded server in an Electron utility process: `glance-uploader serve` (the built CLI
 * module) forked by the app, tied to its life (Electron ends utility processes with the app),
 * ready once it prints its address line. No ELECTRON_RUN_AS_NODE: that fuse is off in packaged
 * builds.
 */
import { utilityProcess } from 'electron';
import type { LocalServerHandle } from '../core/app/app-runtime';
import { awaitServeReady } from '../core/local-glance/server-process';

export async function startUtilityServer(cliModule: string, dataDir: string, port = 0): Promise<LocalServerHandle> {
  const child = utilityProcess.fork(cliModule, ['serve', '--port', String(port), '--data', dataDir, '--json'], {
    serviceName: 'Glance Uploader local server',
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const info = await awaitServeReady(child, { dataDir, stderrTail: () => stderr });
  return {
    ...info,
    pid: child.pid ?? info.pid,
    stop: async () => {
      if (exited) return;
      child.kill(); // SIGTERM: the server closes its connections and its database
      await exit;
    },
  };
}
