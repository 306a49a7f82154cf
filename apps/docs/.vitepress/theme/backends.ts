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
