import type { Conv2D } from '@backprop/layers';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/generated/onnx.js';
import { fromOnnx } from '../src/index.js';
import { registry } from './models.js';
import { compareWithOnnxRuntime, rng } from './ort-compare.js';

const F = onnx.TensorProto.DataType.FLOAT;
const AT = onnx.AttributeProto.AttributeType;
const TOLERANCE = 1e-5;

const autoPad = (v: string): onnx.IAttributeProto => ({ name: 'auto_pad', type: AT.STRING, s: new TextEncoder().encode(v) });
const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: AT.INTS, ints: v });

/**
 * x [N, C, H, W] → Conv (F filters, k×k, stride s, auto_pad conv) → Relu → Pool (2×2 window,
 * stride 2, auto_pad pool) — a graph as PyTorch or tf2onnx write it, with auto_pad instead of pads.
 */
function graph(shape: [number, number, number], conv: { filters: number; kernel: [number, number]; strides: [number, number]; autoPad: string }, pool: { op: string; autoPad: string }): Uint8Array {
  const r = rng(5);
  const [c, h, w] = shape;
  const size = conv.filters * c * conv.kernel[0] * conv.kernel[1];
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'auto-pad',
      node: [
        { opType: 'Conv', name: 'conv', input: ['x', 'W', 'B'], output: ['c'], attribute: [ints('kernel_shape', conv.kernel), ints('strides', conv.strides), autoPad(conv.autoPad)] },
        { opType: 'Relu', name: 'relu', input: ['c'], output: ['r'] },
        { opType: pool.op, name: 'pool', input: ['r'], output: ['y'], attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), autoPad(pool.autoPad)] },
      ],
      initializer: [
        { name: 'W', dims: [conv.filters, c, ...conv.kernel], dataType: F, floatData: Array.from({ length: size }, r) },
        { name: 'B', dims: [conv.filters], dataType: F, floatData: Array.from({ length: conv.filters }, r) },
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: 'N' }, { dimValue: c }, { dimValue: h }, { dimValue: w }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: F, shape: { dim: ['N', 'C', 'H', 'W'].map((d) => ({ dimParam: d })) } } } }],
    },
  }).finish();
}

async function compare(bytes: Uint8Array, shape: [number, number, number]): Promise<{ diff: number; layers: { pad?: readonly number[]; outputShape: number[] } }> {
  let layers: { pad?: readonly number[]; outputShape: number[] } = { outputShape: [] };
  const diff = await compareWithOnnxRuntime(bytes, shape, (model) => {
    layers = { pad: (model.layers[0] as Conv2D).pad, outputShape: model.outputShape };
  });
  return { diff, layers };
}

describe('fromOnnx: auto_pad on Conv and the pools, where symmetric padding expresses it exactly (checked in onnxruntime-node)', () => {
  it('Conv SAME_UPPER / SAME_LOWER with an odd kernel at stride 1 (1 zero each side), MaxPool SAME_UPPER needing no padding', async () => {
    for (const mode of ['SAME_UPPER', 'SAME_LOWER']) {
      const shape: [number, number, number] = [2, 8, 10];
      const bytes = graph(shape, { filters: 3, kernel: [3, 3], strides: [1, 1], autoPad: mode }, { op: 'MaxPool', autoPad: 'SAME_UPPER' });
      const { diff, layers } = await compare(bytes, shape);
      console.log(`auto_pad ${mode} conv 3×3/1 + MaxPool SAME: max |Δ| vs onnxruntime-node ${diff.toExponential(2)}`);
      expect(layers.pad).toEqual([1, 1]);
      expect(layers.outputShape).toEqual([3, 4, 5]);
      expect(diff).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('Conv SAME_UPPER 5×3 at stride 2 where the total padding is even (9 rows: 2 each side; 11 columns: 1), AveragePool VALID', async () => {
    const shape: [number, number, number] = [1, 9, 11];
    const bytes = graph(shape, { filters: 2, kernel: [5, 3], strides: [2, 2], autoPad: 'SAME_UPPER' }, { op: 'AveragePool', autoPad: 'VALID' });
    const { diff, layers } = await compare(bytes, shape);
    expect(layers.pad).toEqual([2, 1]);
    // Conv: ⌈9/2⌉ × ⌈11/2⌉ = 5 × 6; the 2×2/2 pool: 2 × 3.
    expect(layers.outputShape).toEqual([2, 2, 3]);
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
  });

  it('Conv VALID and LpPool SAME_LOWER that needs no padding', async () => {
    const shape: [number, number, number] = [1, 8, 8];
    const bytes = graph(shape, { filters: 2, kernel: [3, 3], strides: [1, 1], autoPad: 'VALID' }, { op: 'LpPool', autoPad: 'SAME_LOWER' });
    const { diff, layers } = await compare(bytes, shape);
    expect(layers.pad).toEqual([0, 0]);
    expect(layers.outputShape).toEqual([2, 3, 3]);
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
  });

  it('refuses, naming the node and the side, an auto_pad that pads one side more (even kernel; odd total at stride 2; a pool that would pad)', () => {
    const refusal = (bytes: Uint8Array): string => {
      try {
        fromOnnx(bytes, { registry }).model.dispose();
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(graph([1, 8, 8], { filters: 2, kernel: [2, 2], strides: [1, 1], autoPad: 'SAME_UPPER' }, { op: 'MaxPool', autoPad: 'VALID' }))).toMatch(
      /fromOnnx: node 0 'conv' \(Conv\): auto_pad SAME_UPPER needs 1 zero\(s\) of vertical padding for kernel 2, stride 1 on size 8; ONNX puts the odd one at the bottom, which Backprop's symmetric padding cannot express/,
    );
    expect(refusal(graph([1, 8, 8], { filters: 2, kernel: [3, 3], strides: [1, 2], autoPad: 'SAME_LOWER' }, { op: 'MaxPool', autoPad: 'VALID' }))).toMatch(
      /auto_pad SAME_LOWER needs 1 zero\(s\) of horizontal padding for kernel 3, stride 2 on size 8; ONNX puts the odd one at the left/,
    );
    // conv VALID 3×3 on 9×9 → 7×7; a 2×2/2 SAME pool needs 1 zero on 7 rows.
    expect(refusal(graph([1, 9, 9], { filters: 2, kernel: [3, 3], strides: [1, 1], autoPad: 'VALID' }, { op: 'MaxPool', autoPad: 'SAME_UPPER' }))).toMatch(
      /node 2 'pool' \(MaxPool\): auto_pad SAME_UPPER needs 1 zero\(s\) of vertical padding for kernel 2, stride 2 on size 7; ONNX puts the odd one at the bottom/,
    );
  });
});
