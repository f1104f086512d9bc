// Types of eslint.config.js for the test that checks its folder order (test/lint/layer-rules.test.ts).
export declare const CORE_ORDER: Readonly<Record<string, readonly string[]>>;
declare const config: unknown;
export default config;
