declare module 'virtual:backprop-backends' {
  import type { Plugin } from '@backprop/tensor';
  export interface BackendChoice {
    id: string;
    label: string;
    /** The gpu.js mode, for the gpu.js backends. */
    gpujs?: string;
    load(): Promise<{ plugin: Plugin; name: string }>;
    /** Why this backend cannot run in this browser, or null when it can. */
    available?(): Promise<string | null>;
  }
  export const backends: BackendChoice[];
}
