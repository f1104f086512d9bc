/**
 * Entry of the engine's worker thread (see src/main/core/app/host/runtime-host.ts): the app's
 * runtime, off the main thread. Never imports electron (a worker has no Electron API).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hostRuntime, type HostInit } from './core/app/host/runtime-host';

if (parentPort === null) throw new Error('runtime-worker runs as a worker thread of the app');
hostRuntime(parentPort, workerData as HostInit);
