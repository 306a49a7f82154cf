import { type BatchNormalization, Dropout } from '@backprop/layers';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/generated/onnx.js';
import { compareWithOnnxRuntime, rng } from './ort-compare.js';

const F = onnx.TensorProto.DataType.FLOAT;
const AT = onnx.AttributeProto.AttributeType;

/**
 * A graph as torch.onnx.export writes a conv net with BatchNorm2d/BatchNorm1d in eval mode
 * (ε 1e-5, momentum 0.9 = 1 − PyTorch's 0.1), plus an opset-13 Dropout with its ratio and
 * training_mode inputs: x [N, 3, 6, 6] → Conv 4@3×3 pads 1 → BatchNormalization → Relu →
 * Dropout → Flatten → Gemm 5 (transB 1) → BatchNormalization → Softmax.
 */
function graph(): Uint8Array {
  const r = rng(17);
  const t = (name: string, dims: number[], f: () => number = r): onnx.ITensorProto => ({ name, dims, dataType: F, floatData: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, f) });
  const positive = (): number => 0.2 + Math.abs(r()) * 2;
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'pytorch',
    graph: {
      name: 'torch-bn',
      node: [
        { opType: 'Conv', name: '/conv/Conv', input: ['x', 'conv.weight', 'conv.bias'], output: ['c'], attribute: [{ name: 'kernel_shape', type: AT.INTS, ints: [3, 3] }, { name: 'pads', type: AT.INTS, ints: [1, 1, 1, 1] }] },
        { opType: 'BatchNormalization', name: '/bn/BatchNormalization', input: ['c', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], output: ['b'], attribute: [{ name: 'epsilon', type: AT.FLOAT, f: 1e-5 }, { name: 'momentum', type: AT.FLOAT, f: 0.9 }] },
        { opType: 'Relu', name: '/relu/Relu', input: ['b'], output: ['r'] },
        { opType: 'Dropout', name: '/drop/Dropout', input: ['r', 'ratio', 'training_mode'], output: ['d'] },
        { opType: 'Flatten', name: '/flat/Flatten', input: ['d'], output: ['f'], attribute: [{ name: 'axis', type: AT.INT, i: 1 }] },
        { opType: 'Gemm', name: '/fc/Gemm', input: ['f', 'fc.weight', 'fc.bias'], output: ['g'], attribute: [{ name: 'transB', type: AT.INT, i: 1 }] },
        { opType: 'BatchNormalization', name: '/bn1d/BatchNormalization', input: ['g', 'bn1d.weight', 'bn1d.bias', 'bn1d.running_mean', 'bn1d.running_var'], output: ['n'], attribute: [{ name: 'epsilon', type: AT.FLOAT, f: 1e-5 }] },
        { opType: 'Softmax', name: '/softmax/Softmax', input: ['n'], output: ['y'], attribute: [{ name: 'axis', type: AT.INT, i: 1 }] },
      ],
      initializer: [
        t('conv.weight', [4, 3, 3, 3]), t('conv.bias', [4]),
        t('bn.weight', [4]), t('bn.bias', [4]), t('bn.running_mean', [4]), t('bn.running_var', [4], positive),
        { name: 'ratio', dims: [], dataType: F, floatData: [0.3] },
        { name: 'training_mode', dims: [], dataType: onnx.TensorProto.DataType.BOOL, int32Data: [0] },
        t('fc.weight', [5, 144]), t('fc.bias', [5]),
        t('bn1d.weight', [5]), t('bn1d.bias', [5]), t('bn1d.running_mean', [5]), t('bn1d.running_var', [5], positive),
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }, { dimValue: 6 }, { dimValue: 6 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: 'N' }, { dimValue: 5 }] } } } }],
    },
  }).finish();
}

describe('fromOnnx: BatchNormalization and Dropout as PyTorch exports them, checked in onnxruntime-node', () => {
  it('conv and dense BatchNormalization with running statistics, an inference Dropout: within 1e-5 of ONNX Runtime', async () => {
    const diff = await compareWithOnnxRuntime(graph(), [3, 6, 6], (model) => {
      expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'BatchNormalization', 'ReLU', 'Dropout', 'Flatten', 'Dense', 'BatchNormalization', 'Softmax']);
      const bn = model.layers[1] as BatchNormalization;
      expect([bn.epsilon, bn.momentum]).toEqual([1e-5, 0.9]);
      expect((model.layers[6] as BatchNormalization).momentum).toBe(0.9); // the ONNX default
      expect((model.layers[3] as Dropout).rate).toBe(0.3);
      expect(model.layers[3]).toBeInstanceOf(Dropout);
    });
    console.log(`PyTorch-style BatchNormalization + Dropout graph: max |Δ| vs onnxruntime-node ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(1e-5);
  });
});
