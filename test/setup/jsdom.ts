// jsdom has no layout: a ResizeObserver that never reports (bind:clientHeight then keeps its
// initial value), so components that measure themselves can be rendered.
class NoLayoutResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
globalThis.ResizeObserver ??= NoLayoutResizeObserver as unknown as typeof ResizeObserver;
