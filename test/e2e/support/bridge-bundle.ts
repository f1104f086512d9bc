import { join } from 'node:path';
import { build, type Rolldown } from 'vite';

/** The browser bridge as one self-contained script, built with the same toolchain as the app. */
export async function buildBridgeScript(): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      lib: {
        entry: join(import.meta.dirname, 'browser-bridge.ts'),
        formats: ['iife'],
        name: 'GlanceUploaderBridge',
        fileName: 'bridge',
      },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as Rolldown.RolldownOutput[];
  const chunk = outputs.flatMap((o) => o.output).find((c) => c.type === 'chunk');
  if (chunk === undefined || chunk.type !== 'chunk') throw new Error('bridge build produced no script');
  return chunk.code;
}
