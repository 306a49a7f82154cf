/**
 * What a CPU backend can be told when it is created (`cpuBackendWithOptions`,
 * `createCpuBackend`, `new CpuBackend`): threads, and which algorithm each convolution
 * kernel uses. Each backend instance keeps its own settings.
 */
import { BackpropError, describeValue } from '@backprop/tensor';

/**
 * The algorithm each convolution kernel uses. 'auto' (the default) lets the kernel choose
 * from the shapes and data (README: "How the convolutions are computed"); the others force
 * one, for tests and benchmarks. Every choice gives the same results up to rounding.
 */
export interface ConvAlgorithm {
  /**
   * conv2d: 'direct' (4×4 register tiles over a padded plane), 'gemm' (im2col + GEMM), or
   * 'winograd' (F(2×2, 3×3); GEMM where it does not apply: not 3×3 stride 1, or a
   * non-finite x or filter).
   */
  forward: 'auto' | 'direct' | 'gemm' | 'winograd';
  /**
   * conv2dBackwardFilter: 'direct', 'gemm' (im2colᵀ + GEMM), or 'sparse' (over dy's
   * non-zeros only; GEMM when x holds a non-finite value).
   */
  filter: 'auto' | 'direct' | 'gemm' | 'sparse';
  /**
   * conv2dBackwardInput: 'gemm' (GEMM + col2im) or 'winograd' (on the rotated kernel; GEMM
   * where it does not apply: not 3×3 stride 1 with padding ≤ 2, or a non-finite dy or filter).
   */
  input: 'auto' | 'gemm' | 'winograd';
}

/** Options of `cpuBackendWithOptions` / `cpuBackendWithThreads` / `createCpuBackend`. */
export interface CpuBackendOptions {
  /**
   * Threads the heavy kernels (matMul, conv2d and its gradients) may use, the calling
   * thread included: 1 (the default) is single-threaded. Above 1, Node starts
   * `threads − 1` worker_threads once; where workers or SharedArrayBuffer are unavailable
   * (browsers, Node < 20.16) the backend quietly stays single-threaded. Results are
   * bit-identical for any value.
   */
  threads?: number;
  /** The worker script (default: dist/worker.js next to the built module). */
  workerUrl?: URL | string;
  /** Kernels below this many FLOPs stay on the calling thread (default PARALLEL_MIN_FLOPS; tests use 0). */
  parallelMinFlops?: number;
  /**
   * Forces the algorithm of some convolution kernels, e.g. `{ forward: 'gemm' }`; the
   * others stay 'auto'. The choice is made on the calling thread, so worker threads run
   * the same algorithm.
   */
  convAlgorithm?: Partial<ConvAlgorithm>;
}

/** Below this many multiply-adds ×2 a kernel is not split: waking a worker costs ~10–50 µs. */
export const PARALLEL_MIN_FLOPS = 2e6;

const CONV_ALGORITHMS: { readonly [K in keyof ConvAlgorithm]: readonly ConvAlgorithm[K][] } = {
  forward: ['auto', 'direct', 'gemm', 'winograd'],
  filter: ['auto', 'direct', 'gemm', 'sparse'],
  input: ['auto', 'gemm', 'winograd'],
};

/**
 * The full setting from the `convAlgorithm` option: every kernel not named is 'auto'.
 * Unknown kernels and algorithms are a BackpropError naming the field.
 */
export function resolveConvAlgorithm(option: unknown): Readonly<ConvAlgorithm> {
  const out: ConvAlgorithm = { forward: 'auto', filter: 'auto', input: 'auto' };
  if (option === undefined) return Object.freeze(out);
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new BackpropError('cpu backend', `convAlgorithm must be an object such as { forward: 'gemm' }, got ${describeValue(option)}`);
  }
  for (const [kernel, algorithm] of Object.entries(option)) {
    if (!Object.hasOwn(CONV_ALGORITHMS, kernel)) {
      throw new BackpropError('cpu backend', `convAlgorithm.${kernel} is not a convolution kernel (forward, filter or input)`);
    }
    if (algorithm === undefined) continue;
    const allowed: readonly string[] = CONV_ALGORITHMS[kernel as keyof ConvAlgorithm];
    if (!allowed.includes(algorithm as string)) {
      throw new BackpropError(
        'cpu backend',
        `convAlgorithm.${kernel} must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(algorithm)}`,
      );
    }
    (out as unknown as Record<string, unknown>)[kernel] = algorithm;
  }
  return Object.freeze(out);
}
