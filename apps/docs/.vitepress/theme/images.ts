/**
 * The "Train on your own images" page's model and files: a small CNN for a few dozen
 * images, a test image turned into the model's input exactly as the training images were,
 * and the trained model as a zip of Backprop's model directory.
 */
import { decodeImage, type Interpolation, writeImageSample } from '@backprop/datasets';
import { BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPool2D, type Preset, ReLU, Sequential, toArtifactsAsync } from '@backprop/layers';
import { strToU8, zipSync } from 'fflate';

/**
 * Two conv stages with BatchNormalization (which lets Adam take large steps on so few
 * images) and dropout before the softmax head. BN's momentum is 0.9, not Keras' 0.99: a
 * few dozen images make a few dozen steps, and the moving averages used at inference
 * must have caught up with the batch statistics by then (0.99^40 still weighs the
 * initial values by 67 %). Small enough to train in seconds on the CPU backend.
 */
export function smallCnn(inputShape: [number, number, number], classes: number, seed = 1): Preset {
  const model = new Sequential({
    name: 'your-images',
    inputShape,
    seed,
    layers: [
      new Conv2D({ filters: 8, kernelSize: 3, useBias: false }),
      new BatchNormalization({ momentum: 0.9 }),
      new ReLU(),
      new MaxPool2D({ poolSize: 2 }),
      new Conv2D({ filters: 16, kernelSize: 3, useBias: false }),
      new BatchNormalization({ momentum: 0.9 }),
      new ReLU(),
      new MaxPool2D({ poolSize: 2 }),
      new Flatten(),
      new Dropout({ rate: 0.25 }),
      new Dense({ units: classes, activation: 'softmax' }),
    ],
  });
  return {
    model,
    loss: { name: 'categoricalCrossentropy', config: {} },
    optimizer: { name: 'adam', config: { learningRate: 0.01 } },
    description: `Conv 8@3×3 → BN → ReLU → MaxPool 2 → Conv 16@3×3 → BN → ReLU → MaxPool 2 → Flatten → Dropout 0.25 → Dense ${classes} softmax; CE; Adam (lr 0.01)`,
  };
}

/** How the training images were turned into inputs; test images go through the same. */
export interface InputLayout {
  channels: 1 | 3;
  height: number;
  width: number;
  interpolation: Interpolation;
}

/** One image file (PNG or JPEG bytes) as one (channels, height, width) input in [0, 1]. */
export function imageInput(bytes: Uint8Array, name: string, layout: InputLayout): Float32Array {
  const out = new Float32Array(layout.channels * layout.height * layout.width);
  writeImageSample(decodeImage(bytes, name), layout, out, 0);
  return out;
}

/** The folder inside the zip: `unzip backprop-model.zip` gives a directory for `--model-dir`. */
export const MODEL_FOLDER = 'backprop-model';

/**
 * The trained model as the CLI and `loadModel` read it: `model.json` (topology, weight
 * specs, checksums, the class names, the optimizer state) and `weights-<crc32>.bin`,
 * zipped in one folder. The same artifacts `saveModel` writes in Node.
 */
export async function modelZip(model: Sequential, classNames: readonly string[], metadata: Record<string, unknown>): Promise<Uint8Array> {
  const { manifest, weightData } = await toArtifactsAsync(model, { classNames, metadata });
  return zipSync({
    [MODEL_FOLDER]: {
      'model.json': strToU8(`${JSON.stringify(manifest, null, 2)}\n`),
      [manifest.weights.file]: new Uint8Array(weightData),
    },
  });
}
