import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EpochLogs } from '@backprop/layers';

/**
 * The Chart.js UMD bundle, inlined into the report so it opens offline. chart.js's
 * export map hides `dist/`, so the bundle is found next to its CommonJS entry.
 */
export async function chartJsSource(): Promise<string> {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('chart.js'));
  for (const name of ['chart.umd.min.js', 'chart.umd.js']) {
    try {
      return await readFile(join(dist, name), 'utf8');
    } catch {
      // try the next name
    }
  }
  throw new Error(`chart.js UMD bundle not found in ${dist}`);
}

/** Chart.js configurations for the loss and accuracy curves (per epoch). */
export function curveCharts(history: EpochLogs[]): { loss: unknown; accuracy: unknown } {
  const labels = history.map((h) => h.epoch + 1);
  const hasVal = history.some((h) => h.valLoss !== undefined);
  const line = (label: string, data: (number | null)[], color: string): unknown => ({
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    tension: 0.2,
  });
  const chart = (title: string, datasets: unknown[], y: Record<string, unknown>): unknown => ({
    type: 'line',
    data: { labels, datasets },
    options: {
      animation: false,
      plugins: { title: { display: true, text: title } },
      scales: { x: { title: { display: true, text: 'epoch' } }, y },
    },
  });
  const pick = (f: (h: EpochLogs) => number | undefined): (number | null)[] => history.map((h) => f(h) ?? null);
  return {
    loss: chart(
      'Loss',
      [line('train loss', pick((h) => h.loss), '#1f77b4'), ...(hasVal ? [line('validation loss', pick((h) => h.valLoss), '#ff7f0e')] : [])],
      { title: { display: true, text: 'loss' } },
    ),
    accuracy: chart(
      'Accuracy',
      [
        line('train accuracy', pick((h) => h.accuracy), '#2ca02c'),
        ...(hasVal ? [line('validation accuracy', pick((h) => h.valAccuracy), '#d62728')] : []),
      ],
      { title: { display: true, text: 'accuracy' }, suggestedMax: 1 },
    ),
  };
}
