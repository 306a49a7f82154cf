// ConvNetJS 0.3 adapter: float64, one sample at a time; `sgd` trainer, batch_size 32, momentum 0.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const convnetjs = require('convnetjs');

export const name = 'convnetjs';
export const label = 'ConvNetJS 0.3';

export async function init() {
  return { version: require('convnetjs/package.json').version, notes: 'float64, one sample at a time; sgd trainer, batch_size 32, momentum 0' };
}

function layerDefs(model) {
  const defs = [{ type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 }];
  if (model === 'A') {
    defs.push({ type: 'conv', sx: 5, filters: 8, stride: 1, pad: 0, activation: 'relu' });
    defs.push({ type: 'pool', sx: 2, stride: 2 });
  } else {
    defs.push({ type: 'conv', sx: 3, filters: 32, stride: 1, pad: 0, activation: 'relu' });
    defs.push({ type: 'pool', sx: 2, stride: 2 });
    defs.push({ type: 'conv', sx: 3, filters: 64, stride: 1, pad: 0, activation: 'relu' });
    defs.push({ type: 'pool', sx: 2, stride: 2 });
  }
  defs.push({ type: 'fc', num_neurons: 128, activation: 'relu' });
  defs.push({ type: 'softmax', num_classes: 10 });
  return defs;
}

function toVol(x, i) {
  const v = new convnetjs.Vol(28, 28, 1, 0.0);
  const w = v.w;
  const o = i * 784;
  for (let p = 0; p < 784; p++) w[p] = x[o + p];
  return v;
}

export function build(model) {
  const net = new convnetjs.Net();
  net.makeLayers(layerDefs(model));
  const trainer = new convnetjs.SGDTrainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0, batch_size: 32, l2_decay: 0 });
  return {
    // ConvNetJS averages the gradients of batch_size consecutive samples, then steps.
    trainBatch(x, y, n) {
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let label = 0;
        while (y[i * 10 + label] !== 1) label++;
        loss += trainer.train(toVol(x, i), label).cost_loss;
      }
      return loss / n;
    },
    predictCorrect(x, labels, n) {
      let correct = 0;
      for (let i = 0; i < n; i++) {
        net.forward(toVol(x, i), false);
        if (net.getPrediction() === labels[i]) correct++;
      }
      return correct;
    },
  };
}

/** ConvNetJS's conv layer for the paper conv, 32 samples; its backward computes both gradients at once. */
export function kernels() {
  const layer = new convnetjs.ConvLayer({ in_sx: 28, in_sy: 28, in_depth: 1, sx: 5, filters: 8, stride: 1, pad: 0 });
  const vols = Array.from({ length: 32 }, () => {
    const v = new convnetjs.Vol(28, 28, 1);
    return v;
  });
  const outs = vols.map((v) => layer.forward(v, true).clone());
  return {
    convForward: () => { for (const v of vols) layer.forward(v, true); },
    convBothGrads: () => {
      for (let i = 0; i < 32; i++) {
        layer.in_act = vols[i];
        layer.out_act = outs[i];
        for (let j = 0; j < outs[i].dw.length; j++) outs[i].dw[j] = 0.5;
        layer.backward();
      }
    },
  };
}
