import { BackpropError, describeValue, type FloatDataType, maxElements, type Registry, shapeToString } from '@backprop/tensor';
import { Layer, type LayerPlan } from './layer.js';
import { MAX_LAYER_ARG } from './layers/args.js';

/**
 * The layer list of a model, checked and planned without allocating anything: what
 * the Sequential constructor builds from, and what a loader checks a saved topology
 * with before it reads a weight (`planParams` in serialization.ts).
 */

export function checkLayerList(where: string, layers: unknown): asserts layers is Layer[] {
  if (!Array.isArray(layers) || layers.length === 0) throw new BackpropError(where, 'needs at least one layer');
  layers.forEach((layer, i) => {
    if (!isLayer(layer)) {
      throw new BackpropError(
        where,
        `layers[${i}] is not a Layer, got ${describeValue(layer)}; pass layer objects such as new Dense({ units: 10 }), or build from { className, config } specs with Sequential.fromJSON`,
      );
    }
  });
}

/** A Layer, also one from another copy of this package (instanceof would miss it). */
function isLayer(value: unknown): value is Layer {
  if (value instanceof Layer) return true;
  const l = value as Record<string, unknown> | null;
  return (
    typeof l === 'object' && l !== null && typeof l.className === 'string' &&
    ['computeOutputShape', 'build', 'forward', 'backward', 'params', 'countParams', 'getConfig', 'getOutputShape', 'dispose'].every((m) => typeof l[m] === 'function')
  );
}

/** The layers of a topology, each built by the registry from `{ className, config }` (checked as Layers by `checkLayerList`). */
export function createLayers(layers: readonly { className: string; config: Record<string, unknown> }[], registry: Registry): unknown[] {
  return layers.map((spec, index) => {
    try {
      return registry.layers.create({ name: spec.className, config: spec.config });
    } catch (error) {
      throw new BackpropError(`model JSON layer ${index}`, (error as Error).message);
    }
  });
}

export function checkInputShape(where: string, inputShape: unknown, dtype: FloatDataType): number[] {
  if (!Array.isArray(inputShape) || inputShape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_LAYER_ARG)) {
    throw new BackpropError(where, `inputShape must be positive integers (one sample, no batch), got ${describeValue(inputShape)}`);
  }
  const size = inputShape.reduce((p: number, d: number) => p * d, 1);
  if (size > maxElements(dtype)) {
    throw new BackpropError(
      where,
      `inputShape ${shapeToString(inputShape)} has ${size.toLocaleString('en-US')} values per sample, more than the ${maxElements(dtype).toLocaleString('en-US')} ${dtype} values one tensor may hold`,
    );
  }
  return [...inputShape];
}

/** Labels every layer for error messages and names the unnamed ones '<class>_<index>'. */
export function nameLayers(layers: Layer[]): void {
  const used = new Set<string>();
  layers.forEach((layer, index) => {
    layer.label = `layer ${index} (${layer.className})`;
    if (!layer.name) layer.name = `${snake(layer.className)}_${index}`;
    if (used.has(layer.name)) throw new BackpropError(layer.label, `duplicate layer name '${layer.name}'`);
    used.add(layer.name);
  });
}

/** Every layer's output and parameter shapes, checked, in order; allocates nothing. */
export function planLayers(inputShape: readonly number[], layers: Layer[], dtype: FloatDataType): LayerPlan[] {
  const plans: LayerPlan[] = [];
  let shape: readonly number[] = inputShape;
  for (const layer of layers) {
    // A layer from an older copy of this package has no plan(): its build checks what it can.
    const plan = typeof layer.plan === 'function' ? layer.plan(shape, dtype) : { outputShape: layer.computeOutputShape(shape), params: undefined };
    // Backpropagation must never need ∂L/∂x of a layer that has none: no parameter may come before it.
    const withParams = plans.findIndex((p) => p.params === undefined || Object.keys(p.params).length > 0);
    if (layer.hasInputGradient === false && withParams >= 0) {
      throw new BackpropError(
        layer.label || layer.className,
        `has no input gradient, so it must come before every layer with parameters, but follows ${layers[withParams].label || layers[withParams].className}; put the augmentation layers first`,
      );
    }
    plans.push(plan);
    shape = plan.outputShape;
  }
  return plans;
}

function snake(className: string): string {
  return className.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}
