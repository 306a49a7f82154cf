import type { Backend } from '../backend.js';
import type { DataId } from '../kernels.js';
import type { Plugin, Registry } from '../registry.js';

/**
 * `plugin` with the backend `backendName` turned into one without synchronous
 * readback, as a WebGPU backend is: `canReadSync` is false, `readSync` throws and
 * `read` (`await tensor.data()`) works. Everything else, kernels included, is the
 * original backend. Use it to test code meant for such backends on any machine:
 *
 *   registry.use(asyncReadsOnly(cpuBackend, 'cpu'));
 */
export function asyncReadsOnly(plugin: Plugin, backendName: string): Plugin {
  return {
    name: `${plugin.name}:async-reads-only(${backendName})`,
    install(registry) {
      const intercepted = new Proxy(registry, {
        get(target, prop) {
          if (prop === 'registerBackend') {
            return (name: string, factory: () => Backend, options?: Parameters<Registry['registerBackend']>[2]) =>
              target.registerBackend(name, name === backendName ? () => withoutReadSync(factory()) : factory, options);
          }
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      plugin.install(intercepted);
    },
  };
}

function withoutReadSync(backend: Backend): Backend {
  return new Proxy(backend, {
    get(target, prop) {
      if (prop === 'canReadSync') return false;
      if (prop === 'readSync') {
        return () => {
          throw new Error(`backend '${target.name}' (async reads only): synchronous reads are impossible; use \`await tensor.data()\``);
        };
      }
      if (prop === 'read') return async (dataId: DataId) => target.read(dataId);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
