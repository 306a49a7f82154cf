export {
  ONNX_BATCH_DIM,
  ONNX_EXPORT_LAYERS,
  ONNX_INPUT_NAME,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT_NAME,
  toOnnx,
  toOnnxAsync,
} from './to-onnx.js';
export type { ToOnnxOptions } from './to-onnx.js';
export { fromOnnx, ONNX_IMPORT_MAX_OPSET, ONNX_IMPORT_MIN_OPSET, ONNX_IMPORT_OPS } from './from-onnx.js';
export type { FromOnnxOptions, OnnxImport } from './from-onnx.js';
export { fromTfjsLayers, loadTfjsLayers, TFJS_IMPORT_ACTIVATIONS, TFJS_IMPORT_LAYERS } from './from-tfjs.js';
export type { FromTfjsLayersOptions, TfjsLayersImport } from './from-tfjs.js';
