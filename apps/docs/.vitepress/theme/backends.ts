import { backends } from 'virtual:backprop-backends';

/** The backends of the site's list that this browser cannot run, each with the reason (e.g. no WebGPU adapter). */
export async function unavailableBackends(): Promise<Record<string, string>> {
  const unavailable: Record<string, string> = {};
  for (const b of backends) {
    if (!b.available) continue;
    try {
      const why = await b.available();
      if (why) unavailable[b.id] = why;
    } catch (e) {
      unavailable[b.id] = (e as Error).message;
    }
  }
  return unavailable;
}

/**
 * The backend a page starts on: the fastest of the list that runs here — wasm (several times
 * the CPU backend's speed), else cpu (a browser without WebAssembly SIMD), else the first that runs.
 */
export function startingBackend(unavailable: Record<string, string>): string {
  for (const id of ['wasm', 'cpu']) if (backends.some((b) => b.id === id) && !unavailable[id]) return id;
  return (backends.find((b) => !unavailable[b.id]) ?? backends[0]).id;
}
