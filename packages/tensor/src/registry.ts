import type { Backend, BackendMemory, KernelConfig, KernelFunc } from './backend.js';
import { isLayerComponent, isLoss, isOptimizer, type LayerComponent, type Loss, type Optimizer } from './components.js';
import { type DataType, toTypedArray, type TypedArray } from './dtype.js';
import { BackpropError, RegistryError, shapeToString } from './errors.js';
import { KERNEL_NAMES, type KernelAttrs, type KernelInputs, type KernelName, SPEC_VERSION, type TensorInfo } from './kernels.js';
import { assertTensorShape } from './limits.js';
import { checkDtype, describeValue as describe } from './validation.js';
import { sizeOfShape, Tensor } from './tensor.js';

/** Something that installs itself into a registry: backends, layers, losses, optimizers. */
export interface Plugin {
  readonly name: string;
  install(registry: Registry): void;
}

export interface RegisterOptions {
  /** Replace an existing entry of the same name instead of throwing. */
  replace?: boolean;
}

export interface BackendRegistration {
  factory: () => Backend;
  /** The highest priority wins when no backend was chosen explicitly. */
  priority: number;
}

export interface MemoryInfo extends BackendMemory {
  /** Live Tensor objects on the active backend (views share one data buffer). */
  numTensors: number;
  backend: string;
}

/**
 * A registry of named things of one kind (layers, losses, optimizers). Lookups that
 * fail list what is registered.
 */
export class NamedRegistry<T> {
  private readonly entries = new Map<string, T>();
  constructor(protected readonly kind: string) {}

  register(name: string, item: T, options: RegisterOptions = {}): void {
    const where = `register ${this.kind}`;
    assertName(where, 'name', name);
    this.checkItem(where, name, item);
    assertRegisterOptions(where, options);
    if (this.entries.has(name) && !options.replace) {
      throw new RegistryError(
        `register ${this.kind}`,
        `'${name}' is already registered; pass { replace: true } to replace it`,
      );
    }
    this.entries.set(name, item);
  }

  /** What may be registered; `undefined` would read as "not registered" in `get`. */
  protected checkItem(where: string, name: string, item: T): void {
    if (item === undefined) throw new RegistryError(where, `'${name}' must not be undefined`);
  }

  get(name: string): T {
    const item = this.entries.get(name);
    if (item === undefined) {
      throw new RegistryError(this.kind, `unknown ${this.kind} '${name}'; registered: ${this.list()}`);
    }
    return item;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  private list(): string {
    const names = this.names();
    return names.length ? names.join(', ') : '(none)';
  }
}

/** Builds a component from its (optional) JSON config. */
export type Factory<T> = (config?: Record<string, unknown>) => T;

/**
 * How a component may be given wherever one is expected: a registered name
 * (`'adam'`), its JSON form `{ name, config }` (what every component serialises to:
 * `{ name: c.name, config: c.getConfig() }`), or an instance, used as is.
 */
export type ComponentSpec<T> = string | { name: string; config?: Record<string, unknown> } | T;

/**
 * A registry of factories, and the one place where a `ComponentSpec` becomes a
 * component: `create('adam')`, `create({ name: 'adam', config })` or `create(adam)`.
 * What counts as an instance is the registry's `isInstance` test (duck typed, so a
 * component from another copy of its package is recognised too).
 */
export class FactoryRegistry<T> extends NamedRegistry<Factory<T>> {
  constructor(
    kind: string,
    /** Whether a spec is already a component (returned as is by `create`). */
    readonly isInstance: (value: unknown) => value is T,
  ) {
    super(kind);
  }

  protected override checkItem(where: string, name: string, item: unknown): void {
    if (typeof item !== 'function') throw new RegistryError(where, `'${name}' must be a factory function, got ${describe(item)}`);
  }

  /**
   * The component `spec` names. An instance is returned as is; a name or `{ name,
   * config }` is built by the registered factory of that name (a name alone gets the
   * factory's defaults). `options.fallback` supplies factories for names that are
   * not registered, so a package can resolve its own components before its plugin
   * is installed.
   */
  create(spec: ComponentSpec<T>, options: { fallback?: Readonly<Record<string, Factory<T>>> } = {}): T {
    if (this.isInstance(spec)) return spec;
    const named = spec as { name?: unknown; config?: Record<string, unknown> } | null;
    const name = typeof spec === 'string' ? spec : named !== null && typeof named === 'object' && typeof named.name === 'string' ? named.name : undefined;
    if (name === undefined) {
      throw new RegistryError(this.kind, `expected the name of a registered ${this.kind} or { name, config }, got ${JSON.stringify(spec)}`);
    }
    const { fallback } = options;
    const factory = !this.has(name) && fallback !== undefined && Object.hasOwn(fallback, name) ? fallback[name] : this.get(name);
    return typeof spec === 'string' ? factory() : factory(named!.config ?? {});
  }
}

interface ScopeFrame {
  tensors: Set<Tensor>;
}

/**
 * The registry is also the engine: it owns backends and their kernels, the
 * component registries, the active backend and the memory scopes. Most programs use
 * the default instance (`defaultRegistry`) through the module-level functions.
 */
export class Registry {
  /** Layer factories by class name; @backprop/layers defines what a layer is. */
  readonly layers = new FactoryRegistry<LayerComponent>('layer', isLayerComponent);
  readonly losses = new FactoryRegistry<Loss>('loss', isLoss);
  readonly optimizers = new FactoryRegistry<Optimizer>('optimizer', isOptimizer);

  private readonly backendRegistrations = new Map<string, BackendRegistration>();
  private readonly backendInstances = new Map<string, Backend>();
  private readonly kernelTables = new Map<string, Map<KernelName, KernelFunc<KernelName>>>();
  private readonly installedPlugins = new Set<string>();
  private activeBackendName: string | undefined;
  private readonly scopes: ScopeFrame[] = [];
  private readonly liveTensorCount = new Map<string, number>();

  /**
   * Installs a plugin once; installing the same plugin name again is a no-op. Every
   * argument is checked before any is installed, so a bad one installs nothing.
   */
  use(...plugins: Plugin[]): this {
    plugins.forEach((plugin, i) => assertPlugin(plugin, i + 1));
    for (const plugin of plugins) {
      if (this.installedPlugins.has(plugin.name)) continue;
      plugin.install(this);
      this.installedPlugins.add(plugin.name);
    }
    return this;
  }

  plugins(): string[] {
    return [...this.installedPlugins].sort();
  }

  // ---- backends ----------------------------------------------------------------------

  registerBackend(name: string, factory: () => Backend, options: RegisterOptions & { priority?: number } = {}): void {
    const where = 'registerBackend';
    assertName(where, 'name', name);
    if (typeof factory !== 'function') {
      throw new RegistryError(where, `factory of backend '${name}' must be a function returning a Backend, got ${describe(factory)}`);
    }
    assertRegisterOptions(where, options);
    if (options.priority !== undefined && (typeof options.priority !== 'number' || !Number.isFinite(options.priority))) {
      throw new RegistryError(where, `priority must be a finite number, got ${describe(options.priority)}`);
    }
    if (this.backendRegistrations.has(name) && !options.replace) {
      throw new RegistryError('registerBackend', `backend '${name}' is already registered; pass { replace: true } to replace it`);
    }
    const existing = this.backendInstances.get(name);
    if (existing) {
      existing.dispose();
      this.backendInstances.delete(name);
    }
    this.backendRegistrations.set(name, { factory, priority: options.priority ?? 1 });
  }

  registerKernel<K extends KernelName, B extends Backend>(config: KernelConfig<K, B>, options: RegisterOptions = {}): void {
    const where = 'registerKernel';
    if (config === null || typeof config !== 'object') {
      throw new RegistryError(where, `config must be an object { kernelName, backendName, kernelFunc }, got ${describe(config)}`);
    }
    // Ops dispatch only spec kernels: a misspelt name would register a kernel nothing runs.
    if (!(KERNEL_NAMES as readonly unknown[]).includes(config.kernelName)) {
      throw new RegistryError(where, `kernelName ${describe(config.kernelName)} is not a kernel of spec v${SPEC_VERSION} (see KERNEL_NAMES)`);
    }
    assertName(where, 'backendName', config.backendName);
    if (typeof config.kernelFunc !== 'function') {
      throw new RegistryError(where, `kernelFunc of kernel '${config.kernelName}' must be a function, got ${describe(config.kernelFunc)}`);
    }
    assertRegisterOptions(where, options);
    let table = this.kernelTables.get(config.backendName);
    if (!table) {
      table = new Map();
      this.kernelTables.set(config.backendName, table);
    }
    if (table.has(config.kernelName) && !options.replace) {
      throw new RegistryError(
        'registerKernel',
        `kernel '${config.kernelName}' is already registered for backend '${config.backendName}'; pass { replace: true } to replace it`,
      );
    }
    table.set(config.kernelName, config.kernelFunc as unknown as KernelFunc<KernelName>);
  }

  hasKernel(kernelName: KernelName, backendName = this.backendName): boolean {
    return this.kernelTables.get(backendName)?.has(kernelName) ?? false;
  }

  /** Kernel names registered for a backend. */
  kernelNames(backendName: string): KernelName[] {
    return [...(this.kernelTables.get(backendName)?.keys() ?? [])];
  }

  backendNames(): string[] {
    return [...this.backendRegistrations.keys()].sort();
  }

  /** Makes `name` the active backend, creating it on first use. */
  setBackend(name: string): Backend {
    const backend = this.findBackend(name);
    this.activeBackendName = name;
    return backend;
  }

  /** The backend instance for `name` (created on first use), without activating it. */
  findBackend(name: string): Backend {
    let backend = this.backendInstances.get(name);
    if (backend) return backend;
    const registration = this.backendRegistrations.get(name);
    if (!registration) {
      const names = this.backendNames();
      throw new RegistryError(
        'setBackend',
        `unknown backend '${name}'; registered: ${names.length ? names.join(', ') : '(none — install a backend plugin such as @backprop/backend-cpu)'}`,
      );
    }
    backend = registration.factory();
    assertBackend(name, backend);
    if (backend.specVersion !== SPEC_VERSION) {
      backend.dispose();
      throw new RegistryError(
        'setBackend',
        `backend '${name}' implements kernel spec v${backend.specVersion} but @backprop/tensor requires v${SPEC_VERSION}`,
      );
    }
    this.backendInstances.set(name, backend);
    return backend;
  }

  /** The active backend (see `backendName`), created on first use. */
  get backend(): Backend {
    return this.findBackend(this.backendName);
  }

  /**
   * The active backend's name: the one set with `setBackend`; else the automatic
   * choice, the registered backend with the highest priority. Reading it (or
   * `backend`) chooses nothing: the automatic choice is fixed when the registry
   * creates its first tensor, so until then a backend registered later with a higher
   * priority is still chosen. From then on tensors live on the chosen backend and it
   * stays active until `setBackend` (or `removeBackend` of it, after which the next
   * tensor chooses again).
   */
  get backendName(): string {
    return this.activeBackendName ?? this.preferredBackendName();
  }

  /** The registered backend with the highest priority (the first registered among equals). */
  private preferredBackendName(): string {
    let best: [string, number] | undefined;
    for (const [name, reg] of this.backendRegistrations) {
      if (!best || reg.priority > best[1]) best = [name, reg.priority];
    }
    if (!best) {
      throw new RegistryError(
        'backend',
        'no backend is registered; install one, e.g. `registry.use(cpuBackend)` from @backprop/backend-cpu',
      );
    }
    return best[0];
  }

  /** Disposes a backend instance and forgets its registration and kernels. */
  removeBackend(name: string): void {
    this.backendInstances.get(name)?.dispose();
    this.backendInstances.delete(name);
    this.backendRegistrations.delete(name);
    this.kernelTables.delete(name);
    if (this.activeBackendName === name) this.activeBackendName = undefined;
  }

  // ---- tensors and kernels ----------------------------------------------------------

  /** Creates a tensor on the active backend from a copy of `values`. */
  makeTensor(values: ArrayLike<number>, shape: readonly number[], dtype: DataType): Tensor {
    // The one entry point through which host data reaches a backend: the creation ops
    // check before they allocate, and direct callers are checked here.
    checkDtype('makeTensor', dtype);
    assertTensorShape('makeTensor', shape, dtype);
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new BackpropError('makeTensor', `values must be an array or a typed array, got ${describe(values)}`);
    }
    if (values.length !== sizeOfShape(shape)) {
      throw new BackpropError('makeTensor', `shape ${shapeToString(shape)} needs ${sizeOfShape(shape)} values, got ${values.length}`);
    }
    const backend = this.backend;
    // `write` copies; only plain arrays or another dtype need converting first.
    const array = isTypedArrayOf(values, dtype) ? values : toTypedArray(values, dtype);
    const dataId = backend.write(array, shape, dtype);
    return this.wrap({ dataId, shape, dtype }, backend, this.backendName);
  }

  /**
   * Runs a kernel on the active backend. Inputs must live there; outputs become
   * tensors tracked by the current scope.
   */
  runKernel<K extends KernelName>(
    kernelName: K,
    inputs: { [P in keyof KernelInputs<K>]: Tensor | Extract<KernelInputs<K>[P], undefined> },
    attrs: KernelAttrs<K>,
  ): K extends KernelName ? RunKernelResult<K> : never {
    const backendName = this.backendName;
    const kernel = this.kernelTables.get(backendName)?.get(kernelName);
    if (!kernel) {
      throw new RegistryError(kernelName, `kernel '${kernelName}' is not registered for backend '${backendName}'`);
    }
    for (const [argName, t] of Object.entries(inputs as Record<string, Tensor | undefined>)) {
      if (t === undefined) continue;
      t.assertLive(kernelName);
      if (t.backendName !== backendName) {
        throw new BackpropError(
          kernelName,
          `input '${argName}' lives on backend '${t.backendName}' but the active backend is '${backendName}'`,
        );
      }
    }
    const backend = this.backend;
    const out = kernel({ inputs: inputs as never, attrs: attrs as never, backend });
    if (out === undefined) return undefined as never;
    if (Array.isArray(out)) return out.map((info) => this.wrap(info, backend, backendName)) as never;
    return this.wrap(out as TensorInfo, backend, backendName) as never;
  }

  private wrap(info: TensorInfo, backend: Backend, backendName: string): Tensor {
    // The first tensor fixes the automatic backend choice (see `backendName`).
    this.activeBackendName ??= backendName;
    const storage = { dataId: info.dataId, backend, backendName, refCount: 1 };
    return this.trackTensor(new Tensor(storage, info.shape, info.dtype, this));
  }

  /** @internal Registers a new tensor with the memory counters and the open scope. */
  trackTensor(t: Tensor): Tensor {
    this.liveTensorCount.set(t.backendName, (this.liveTensorCount.get(t.backendName) ?? 0) + 1);
    this.scopes[this.scopes.length - 1]?.tensors.add(t);
    return t;
  }

  /** @internal Called by `Tensor.dispose()`. */
  releaseTensor(t: Tensor): void {
    this.liveTensorCount.set(t.backendName, (this.liveTensorCount.get(t.backendName) ?? 1) - 1);
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      if (this.scopes[i].tensors.delete(t)) break;
    }
    const storage = t.storage;
    storage.refCount--;
    if (storage.refCount === 0) storage.backend.disposeData(storage.dataId);
  }

  // ---- memory -------------------------------------------------------------------------

  /**
   * Runs `fn` and disposes every tensor created inside it that is not part of its
   * result (tensors found in returned arrays and plain objects are kept) and was
   * not passed to `keep`. Kept and returned tensors move to the enclosing scope.
   */
  scope<R>(fn: () => R): R {
    const frame: ScopeFrame = { tensors: new Set() };
    this.scopes.push(frame);
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.scopes.pop();
      for (const t of frame.tensors) t.dispose();
      throw error;
    }
    if (result instanceof Promise) {
      this.scopes.pop();
      for (const t of frame.tensors) t.dispose();
      throw new BackpropError('scope', 'the function must be synchronous; await outside the scope');
    }
    this.scopes.pop();
    const survivors = new Set<Tensor>();
    collectTensors(result, survivors);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of frame.tensors) {
      if (survivors.has(t)) parent?.tensors.add(t);
      else t.dispose();
    }
    return result;
  }

  /** Exempts a tensor from disposal by the enclosing scopes. */
  keep<T extends Tensor>(t: T): T {
    for (const frame of this.scopes) frame.tensors.delete(t);
    return t;
  }

  memory(backendName = this.backendName): MemoryInfo {
    const backend = this.findBackend(backendName);
    return { ...backend.memory(), numTensors: this.liveTensorCount.get(backendName) ?? 0, backend: backendName };
  }

  /** Reads a tensor's values as a copy (same as `t.dataSync()`). */
  read(t: Tensor): TypedArray {
    return t.dataSync();
  }
}

export type RunKernelResult<K extends KernelName> = import('./kernels.js').KernelOutput<K> extends void
  ? void
  : import('./kernels.js').KernelOutput<K> extends [TensorInfo, TensorInfo]
    ? [Tensor, Tensor]
    : Tensor;

const PLUGIN_SHAPE = 'a plugin is an object { name: string, install(registry) }, such as cpuBackend from @backprop/backend-cpu';

/** Throws a RegistryError naming the argument position unless `plugin` looks like a Plugin. */
function assertPlugin(plugin: unknown, position: number): void {
  const where = 'use';
  if (typeof plugin === 'string') {
    throw new RegistryError(where, `argument ${position} is ${describe(plugin)}; ${PLUGIN_SHAPE} (to switch to an installed backend by name, call setBackend(${describe(plugin)}))`);
  }
  if (Array.isArray(plugin)) {
    throw new RegistryError(where, `argument ${position} is an array; pass plugins as separate arguments, use(a, b); ${PLUGIN_SHAPE}`);
  }
  if (plugin === null || typeof plugin !== 'object') {
    throw new RegistryError(where, `argument ${position} is ${describe(plugin)}; ${PLUGIN_SHAPE}`);
  }
  const { name, install } = plugin as Partial<Plugin>;
  if (typeof name !== 'string' || name === '') {
    throw new RegistryError(where, `argument ${position} is an object without a 'name' string; ${PLUGIN_SHAPE}`);
  }
  if (typeof install !== 'function') {
    throw new RegistryError(where, `argument ${position} ('${name}') has no install function; ${PLUGIN_SHAPE}`);
  }
}

function assertName(where: string, what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new RegistryError(where, `${what} must be a non-empty string, got ${describe(name)}`);
}

function assertRegisterOptions(where: string, options: unknown): asserts options is RegisterOptions {
  if (options === null || typeof options !== 'object') throw new RegistryError(where, `options must be an object, got ${describe(options)}`);
  const { replace } = options as RegisterOptions;
  if (replace !== undefined && typeof replace !== 'boolean') throw new RegistryError(where, `replace must be a boolean, got ${describe(replace)}`);
}

const BACKEND_METHODS = ['write', 'readSync', 'read', 'disposeData', 'memory', 'dispose'] as const;

/** A factory's result is used as a Backend right away: check it first so a bad one is named. */
function assertBackend(name: string, backend: unknown): asserts backend is Backend {
  if (backend === null || typeof backend !== 'object') {
    throw new RegistryError('setBackend', `the factory of backend '${name}' returned ${describe(backend)}, not a Backend`);
  }
  const missing = BACKEND_METHODS.filter((m) => typeof (backend as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) {
    throw new RegistryError('setBackend', `the factory of backend '${name}' returned an object without ${missing.join(', ')}; a Backend implements ${BACKEND_METHODS.join(', ')}`);
  }
}

function isTypedArrayOf(values: ArrayLike<number>, dtype: DataType): values is TypedArray {
  return dtype === 'float32' ? values instanceof Float32Array : dtype === 'float64' ? values instanceof Float64Array : values instanceof Int32Array;
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, into, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, into, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  }
}

/** The registry used by the module-level functions and by tensors created without one. */
export const defaultRegistry = new Registry();

export function use(...plugins: Plugin[]): Registry {
  return defaultRegistry.use(...plugins);
}

/** Swaps the backend in one line: `setBackend('gpujs')`. */
export function setBackend(name: string): Backend {
  return defaultRegistry.setBackend(name);
}

export function getBackend(): Backend {
  return defaultRegistry.backend;
}

export function getBackendName(): string {
  return defaultRegistry.backendName;
}

export function scope<R>(fn: () => R): R {
  return defaultRegistry.scope(fn);
}

export function keep<T extends Tensor>(t: T): T {
  return defaultRegistry.keep(t);
}

export function memory(): MemoryInfo {
  return defaultRegistry.memory();
}
