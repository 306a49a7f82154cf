import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { katex } from '@mdit/plugin-katex';
import { defineConfig, type DefaultTheme } from 'vitepress';

const docsRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The train page's backend switch lists the CPU backend always, and the gpu.js modes
 * when @backprop/backend-gpujs is a dependency of the docs (resolvable from here).
 */
function hasGpujs(): boolean {
  if (process.env.DOCS_NO_GPUJS) return false;
  return existsSync(join(docsRoot, 'node_modules/@backprop/backend-gpujs/dist/index.js'));
}

const GPUJS_MODES = ['webgl2', 'webgpu', 'webasm', 'cpu'];

const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function backendsModule(): string {
  const lines = [
    "import { cpuBackend } from '@backprop/backend-cpu';",
    'export const backends = [',
    "  { id: 'cpu', label: 'CPU (pure TypeScript)', load: async () => ({ plugin: cpuBackend, name: 'cpu' }) },",
    // Browsers refuse synchronous compilation of big modules on the main thread: compile first.
    // whyWasmUnavailable names what is missing (WebAssembly, or its SIMD) in an older browser.
    "  { id: 'wasm', label: 'WebAssembly SIMD (1 thread)', load: () => import('@backprop/backend-wasm').then(async (m) => { await m.compileWasmKernels(); return { plugin: m.wasmBackend, name: 'wasm' }; }), available: () => import('@backprop/backend-wasm').then((m) => m.whyWasmUnavailable()) },",
  ];
  if (hasGpujs()) {
    // One registry backend per gpu.js mode ('gpujs-webgl2', …), so the page can switch between them.
    // whyUnavailableAsync asks for a WebGPU adapter: navigator.gpu can exist without one.
    for (const mode of GPUJS_MODES) {
      lines.push(
        `  { id: 'gpujs-${mode}', label: 'gpu.js ${mode}', gpujs: '${mode}', load: () => import('@backprop/backend-gpujs').then((m) => ({ plugin: m.gpujsBackend({ mode: '${mode}', backendName: 'gpujs-${mode}' }), name: 'gpujs-${mode}' })), available: () => import('@backprop/backend-gpujs').then((m) => m.whyUnavailableAsync('${mode}')) },`,
      );
    }
  }
  lines.push('];');
  return lines.join('\n');
}

function apiSidebar(): DefaultTheme.SidebarItem[] {
  const dir = join(docsRoot, 'api/@backprop');
  const items: DefaultTheme.SidebarItem[] = [{ text: 'Overview', link: '/api/' }];
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
      const name = file.replace(/\.md$/, '');
      items.push({ text: `@backprop/${name}`, link: `/api/@backprop/${name}` });
    }
  }
  return items;
}

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'Getting started', link: '/guide/getting-started' },
      { text: 'Concepts', link: '/guide/concepts' },
      { text: 'Saving and loading', link: '/guide/saving-loading' },
      { text: 'Export and import (ONNX)', link: '/guide/export-import' },
      { text: 'The CLI', link: '/guide/cli' },
      { text: 'Writing plugins', link: '/guide/plugins' },
    ],
  },
  {
    text: 'Try it',
    items: [
      { text: 'Train a CNN in your browser', link: '/train' },
      { text: 'Train on your own images', link: '/train-images' },
      { text: 'Benchmarks', link: '/benchmarks' },
    ],
  },
];

const math: DefaultTheme.SidebarItem[] = [
  {
    text: 'The math',
    items: [
      { text: 'Overview and conventions', link: '/math/' },
      { text: 'Convolution', link: '/math/convolution' },
      { text: 'Activations', link: '/math/activations' },
      { text: 'Pooling', link: '/math/pooling' },
      { text: 'Flatten and dense', link: '/math/dense' },
      { text: 'Losses', link: '/math/losses' },
      { text: 'Backpropagation', link: '/math/backprop' },
      { text: 'Gradient descent', link: '/math/gradient-descent' },
      { text: 'Dropout', link: '/math/dropout' },
      { text: 'Batch normalization', link: '/math/batch-normalization' },
      { text: 'Data augmentation', link: '/math/augmentation' },
      { text: 'Errata', link: '/math/errata' },
    ],
  },
];

export default defineConfig({
  title: 'Backprop',
  description: 'A TypeScript CNN library: the math of the paper, explained and live, and a CNN that trains in your browser.',
  base: process.env.DOCS_BASE ?? '/',
  cleanUrls: false,
  lastUpdated: false,
  head: [['link', { rel: 'icon', href: 'data:,' }]],
  markdown: {
    config(md) {
      md.use(katex, { output: 'html', throwOnError: true, strict: 'ignore' });
    },
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Math', link: '/math/' },
      { text: 'Train in your browser', link: '/train' },
      { text: 'API', link: '/api/' },
      { text: 'Benchmarks', link: '/benchmarks' },
    ],
    sidebar: {
      '/guide/': guide,
      '/train': guide,
      '/train-images': guide,
      '/benchmarks': guide,
      '/math/': math,
      '/api/': [{ text: 'API reference', items: apiSidebar() }],
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
  },
  vite: {
    // Cross-origin isolation (SharedArrayBuffer), which multi-threaded wasm kernels will need:
    // the site loads nothing from other origins, so require-corp blocks nothing.
    server: { headers: CROSS_ORIGIN_ISOLATION },
    preview: { headers: CROSS_ORIGIN_ISOLATION },
    plugins: [
      {
        // @backprop/backend-gpujs imports the Node-only `webgpu` package (Dawn) lazily for Node's
        // WebGPU; browsers have navigator.gpu, so the page gets an empty module in its place.
        name: 'backprop-docs-no-node-webgpu',
        enforce: 'pre',
        resolveId(id) {
          return id === 'webgpu' ? '\0backprop-docs-node-webgpu' : undefined;
        },
        load(id) {
          return id === '\0backprop-docs-node-webgpu' ? 'export {};' : undefined;
        },
      },
      {
        name: 'backprop-docs-backends',
        resolveId(id) {
          return id === 'virtual:backprop-backends' ? '\0virtual:backprop-backends' : undefined;
        },
        load(id) {
          return id === '\0virtual:backprop-backends' ? backendsModule() : undefined;
        },
      },
    ],
    build: {
      chunkSizeWarningLimit: 2000,
      rollupOptions: {
        // @backprop/layers' saveModel/loadModel import node:fs lazily; the browser uses toArtifacts instead.
        onwarn(warning, warn) {
          if (!/externalized for browser compatibility/.test(warning.message)) warn(warning);
        },
      },
    },
  },
});
