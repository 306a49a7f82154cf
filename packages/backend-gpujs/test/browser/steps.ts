/**
 * Training lengths for the in-page run (entry.ts), shared with test/browser.test.ts, which
 * serves that many MNIST images. Shorter than Node's 100 / 50 steps (headlessgl.test.ts and
 * webgpu.test.ts run the same gpu.js code at full length): in Chromium every step pays
 * SwiftShader's dispatch round trips.
 */
export const BROWSER_MEMORY_STEPS = 20;
export const BROWSER_PARITY_STEPS = 10;
