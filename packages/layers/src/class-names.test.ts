import { cpuBackend } from '@backprop/backend-cpu';
import { lossesPlugin } from '@backprop/losses';
import { optimizersPlugin } from '@backprop/optimizers';
import { Registry } from '@backprop/tensor';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dense, Flatten, fromArtifacts, layersPlugin, loadModel, manifestChecksum, saveModel, Sequential, toArtifacts } from './index.js';

const registry = new Registry().use(cpuBackend, layersPlugin, lossesPlugin, optimizersPlugin);
const model = () => new Sequential({ registry, inputShape: [3, 2, 2], layers: [new Flatten(), new Dense({ units: 3, activation: 'softmax' })], seed: 1 });

describe('classNames in the saved model', () => {
  it('are saved and loaded with the model (and covered by the manifest checksum)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backprop-classnames-'));
    try {
      const m = model();
      await saveModel(m, dir, { classNames: ['cat', 'dog', 'emu'] });
      const { model: loaded, manifest } = await loadModel(dir, { registry });
      expect(manifest.classNames).toEqual(['cat', 'dog', 'emu']);
      expect(loaded.inputShape).toEqual([3, 2, 2]);
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
      expect(json.classNames).toEqual(['cat', 'dog', 'emu']);
      m.dispose();
      loaded.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('must be one distinct non-empty name per output, when saved and when loaded', () => {
    const m = model();
    expect(() => toArtifacts(m, { classNames: ['a', 'b'] })).toThrow(/toArtifacts: classNames has 2 names but the model has output shape \[3\]/);
    expect(() => toArtifacts(m, { classNames: ['a', 'a', 'b'] })).toThrow(/classNames names 'a' twice/);
    expect(() => toArtifacts(m, { classNames: ['a', '', 'b'] })).toThrow(/classNames must be an array of non-empty strings/);
    const artifacts = toArtifacts(m, { classNames: ['a', 'b', 'c'] });
    const edited = (classNames: unknown) => {
      const manifest = { ...artifacts.manifest, classNames } as typeof artifacts.manifest;
      manifest.manifestCrc32 = manifestChecksum(manifest);
      return { ...artifacts, manifest };
    };
    expect(fromArtifacts(edited(['x', 'y', 'z']), { registry }).outputShape).toEqual([3]);
    expect(() => fromArtifacts(edited(['x', 'y']), { registry })).toThrow(/classNames has 2 names but the model has output shape \[3\]/);
    expect(() => fromArtifacts(edited([1, 2, 3]), { registry })).toThrow(/classNames must be an array of non-empty strings/);
    // An edit without a new checksum is caught by the checksum.
    expect(() => fromArtifacts({ ...artifacts, manifest: { ...artifacts.manifest, classNames: ['x', 'y', 'z'] } }, { registry })).toThrow(/manifest checksum mismatch/);
    m.dispose();
  });
});
