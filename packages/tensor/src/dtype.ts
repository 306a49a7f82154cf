export type DataType = 'float32' | 'float64' | 'int32';
export type FloatDataType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array | Int32Array;
export type FloatArray = Float32Array | Float64Array;

export const DTYPES: readonly DataType[] = ['float32', 'float64', 'int32'];

export function bytesPerElement(dtype: DataType): number {
  return dtype === 'float64' ? 8 : 4;
}

export function allocArray(dtype: DataType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
  }
}

/** Copies (and converts) `values` into a fresh array of `dtype`. */
export function toTypedArray(values: ArrayLike<number>, dtype: DataType): TypedArray {
  const out = allocArray(dtype, values.length);
  copyConverted(values, out, dtype);
  return out;
}

/**
 * Copies `values` into `out`, an array of `dtype` at least as long, converting as every
 * backend's `write` must: to int32 by truncating toward zero, to a float type by rounding.
 */
export function copyConverted(values: ArrayLike<number>, out: TypedArray, dtype: DataType): void {
  if (dtype === 'int32' && !(values instanceof Int32Array)) {
    for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]);
  } else {
    out.set(values);
  }
}

export function isDataType(value: unknown): value is DataType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}
