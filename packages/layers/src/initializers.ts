import { checkOneOf, type Random } from '@backprop/tensor';

/**
 * Weight initialisers. fanIn / fanOut follow Keras: for a conv kernel (F, C, kh, kw)
 * fanIn = C·kh·kw and fanOut = F·kh·kw; for a dense weight (out, in) they are in / out.
 */
export type InitializerName = 'heNormal' | 'heUniform' | 'glorotNormal' | 'glorotUniform' | 'zeros' | 'ones';

export const INITIALIZER_NAMES: readonly InitializerName[] = ['heNormal', 'heUniform', 'glorotNormal', 'glorotUniform', 'zeros', 'ones'];

/** The initializer option `option` ('kernelInitializer', 'biasInitializer'): one of INITIALIZER_NAMES. */
export function checkInitializer(where: string, option: string, value: unknown): InitializerName {
  return checkOneOf(where, option, value, INITIALIZER_NAMES);
}

/** Values for a parameter of `size` elements (float64; the layer casts to its dtype). */
export function initialValues(name: InitializerName, size: number, fanIn: number, fanOut: number, rng: Random): Float64Array {
  const out = new Float64Array(size);
  switch (name) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'heNormal': {
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < size; i++) out[i] = rng.normal(0, std);
      return out;
    }
    case 'heUniform': {
      const limit = Math.sqrt(6 / fanIn);
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-limit, limit);
      return out;
    }
    case 'glorotNormal': {
      const std = Math.sqrt(2 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) out[i] = rng.normal(0, std);
      return out;
    }
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-limit, limit);
      return out;
    }
  }
}
