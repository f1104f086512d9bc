import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../io/errors';
import { PortRpc } from './port-rpc';
import { SyncCaller } from './sync-call';

const open: MessageChannel[] = [];
function channel(): MessageChannel {
  const c = new MessageChannel();
  open.push(c);
  return c;
}
afterEach(() => {
  for (const c of open.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

describe('PortRpc', () => {
  it('answers requests with values, and errors with their code and hint', async () => {
    const { port1, port2 } = channel();
    const a = new PortRpc(port1);
    const b = new PortRpc(port2);
    b.handle('add', (p) => (p as number[]).reduce((x, y) => x + y, 0));
    b.handle('fail', () => {
      throw new EngineError('queue.not_found', 'No such target.', { hint: 'List the queue.' });
    });
    expect(await a.request('add', [1, 2, 3])).toBe(6);
    await expect(a.request('fail')).rejects.toMatchObject({
      info: { code: 'queue.not_found', message: 'No such target.', hint: 'List the queue.' },
    });
    await expect(a.request('missing')).rejects.toMatchObject({ info: { code: 'ipc.unknown_method' } });
  });

  it('delivers events, and fails calls in flight and later ones once closed', async () => {
    const { port1, port2 } = channel();
    const a = new PortRpc(port1);
    const b = new PortRpc(port2);
    const got: unknown[] = [];
    a.listen('tick', (p) => got.push(p));
    b.emit('tick', { n: 1 });
    b.emit('tick', { n: 2 });
    b.handle('never', () => new Promise(() => undefined));
    const pending = a.request('never');
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    a.close({ code: 'ipc.engine_stopped', message: 'gone' });
    await expect(pending).rejects.toMatchObject({ info: { code: 'ipc.engine_stopped' } });
    await expect(a.request('never')).rejects.toMatchObject({ info: { code: 'ipc.engine_stopped' } });
  });
});

// SyncCaller's answered path runs in test/integration/runtime-worker.test.ts (the keychain from the worker).
describe('SyncCaller', () => {
  it('gives up with ipc.engine_stopped when nobody answers', () => {
    const { port2 } = channel();
    const caller = new SyncCaller(port2, new SharedArrayBuffer(4), 50);
    expect(() => caller.call({ op: 'kind' })).toThrow(EngineError);
    try {
      caller.call({ op: 'kind' });
    } catch (e) {
      expect((e as EngineError).info.code).toBe('ipc.engine_stopped');
    }
  });
});
