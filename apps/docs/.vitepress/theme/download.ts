import type { Sequential } from '@backprop/layers';
import { toOnnxAsync } from '@backprop/onnx';

/** Hands `bytes` to the browser as a download named `fileName`. */
export function saveBytes(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has started by then; revoking at once can cancel it in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Exports `model` as ONNX with its class names (`toOnnxAsync`: asynchronous reads, so it
 * works on every backend, WebGPU included) and downloads it. `fromOnnx` and the CLI's
 * `--model file.onnx` read the class names back from the file's `class_names` metadata.
 */
export async function downloadOnnx(model: Sequential, classNames: readonly string[], fileName = 'backprop-model.onnx'): Promise<void> {
  saveBytes(await toOnnxAsync(model, { classNames }), fileName);
}
