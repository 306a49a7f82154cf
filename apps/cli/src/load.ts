import { loadModel, type ModelManifest, type Sequential } from '@backprop/layers';
import type { ComponentJSON, Registry } from '@backprop/tensor';
import { CliError } from './errors.js';
import { defaultLoss } from './model.js';

/** Loads a saved model directory; a missing or corrupt one is a one-line CliError naming the file. */
export async function loadModelDir(dir: string, registry: Registry): Promise<{ model: Sequential; manifest: ModelManifest; loss: ComponentJSON }> {
  let loaded: Awaited<ReturnType<typeof loadModel>>;
  try {
    loaded = await loadModel(dir, { registry });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const args = loaded.manifest.metadata?.args as { loss?: ComponentJSON } | undefined;
  return { ...loaded, loss: args?.loss ?? defaultLoss(loaded.model) };
}
