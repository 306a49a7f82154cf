export {
  ONNX_BATCH_DIM,
  ONNX_INPUT_NAME,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT_NAME,
  toOnnx,
  toOnnxAsync,
} from './to-onnx.js';
export type { ToOnnxOptions } from './to-onnx.js';
