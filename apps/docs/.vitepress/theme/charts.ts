import type { Chart } from 'chart.js';

/** One line of a chart: its legend label and colour (thin for per-batch values, thicker with points for per-epoch ones). */
export interface Series {
  label: string;
  color: string;
  /** Per-epoch values: a thicker line with points. */
  epochs?: boolean;
}

let registered = false;

/**
 * A line chart of values against the batch count, as the train pages draw loss and
 * accuracy while `fit` runs: no animation and pre-parsed `{ x, y }` points, so pushing a
 * point and calling `update('none')` stays cheap between batches. Chart.js is loaded on
 * first use (it is only needed on the pages that train).
 */
export async function lineChart(canvas: HTMLCanvasElement, series: Series[], yTitle: string, yMax?: number): Promise<Chart> {
  const { Chart, LineController, LineElement, PointElement, LinearScale, Legend, Tooltip } = await import('chart.js');
  if (!registered) {
    Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);
    registered = true;
  }
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: series.map((s) => ({ label: s.label, data: [], borderColor: s.color, borderWidth: s.epochs ? 2 : 1, ...(s.epochs ? { pointRadius: 3 } : {}) })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'batch' }, min: 0 },
        y: { title: { display: true, text: yTitle }, min: 0, max: yMax },
      },
      elements: { point: { radius: 0 } },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  });
}

/** Empties every line of the charts (new weights: the curves start again). */
export function clearCharts(...charts: (Chart | undefined)[]): void {
  for (const chart of charts) {
    if (!chart) continue;
    for (const ds of chart.data.datasets) ds.data = [];
    chart.update('none');
  }
}
