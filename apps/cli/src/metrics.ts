import { argMax } from './model.js';

/** matrix[actual][predicted] counts from (N, K) outputs and integer labels. */
export function confusionMatrix(outputs: ArrayLike<number>, labels: ArrayLike<number>, k: number): number[][] {
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let n = 0; n < labels.length; n++) matrix[labels[n]][argMax(outputs, n * k, k)]++;
  return matrix;
}

/** Accuracy of each class (row) of a confusion matrix; null for classes absent from the data. */
export function perClassAccuracy(matrix: number[][]): (number | null)[] {
  return matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total ? row[i] / total : null;
  });
}

/** A fixed-width text table of a confusion matrix (rows: actual, columns: predicted). */
export function formatConfusion(matrix: number[][]): string {
  const width = Math.max(5, ...matrix.flat().map((v) => String(v).length + 1));
  const cell = (s: string | number): string => String(s).padStart(width);
  const header = `${'actual\\pred'.padEnd(12)}${matrix.map((_, j) => cell(j)).join('')}`;
  const rows = matrix.map((row, i) => `${String(i).padEnd(12)}${row.map(cell).join('')}`);
  return [header, ...rows].join('\n');
}
