import { type Layer, type NamedArray, Sequential } from '@backprop/layers';
import { BackpropError, type FloatDataType, type Registry } from '@backprop/tensor';

/**
 * The last step of every importer: the layers read from a foreign file become a `Sequential`
 * with those weights, or nothing. A failure disposes what was built and is reported as the
 * importer's own error (`where`), saying whether the layers or the weights did not fit.
 */
export function assembleModel(
  where: string,
  source: string,
  spec: { name?: string; inputShape: number[]; layers: Layer[]; registry?: Registry; dtype?: FloatDataType },
  weights: NamedArray[],
): Sequential {
  let model: Sequential;
  try {
    model = new Sequential(spec);
  } catch (error) {
    for (const layer of spec.layers) layer.dispose();
    throw error instanceof BackpropError ? new BackpropError(where, `the ${source} does not make a Backprop model: ${error.message}`) : error;
  }
  try {
    model.setWeights(weights);
  } catch (error) {
    model.dispose();
    throw error instanceof BackpropError ? new BackpropError(where, `the weights do not fit the model: ${error.message}`) : error;
  }
  return model;
}
