/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { Bridge } from '../../shared/ipc/contract';

declare global {
  interface Window {
    /** The one bridge to the main process, exposed by the preload (or the test bridge). */
    readonly api: Bridge;
  }
}
