import { checkBoolean, checkFiniteNumber, checkNonNegativeInt, checkIntPair, checkNumberInRange, checkOneOf, checkOptions, checkPositiveInt, createRandom, seededOrder } from '@backprop/tensor';
import { type ImageLayout, type Interpolation, writeImageSample } from './convert.js';
import { type DecodedImage, decodeImage, decodeImageInto, type ImageHeader, ImageDatasetError, MAX_IMAGE_PIXELS, readImageHeader } from './decode.js';

/**
 * One image of a data set, wherever it lives (a file on disk, a browser `File`, an
 * `ImageBitmap`): the data set only asks for its header and its pixels, so decoding,
 * conversion and resizing are the same for every source.
 */
export interface ImageSource {
  /** Shown in messages: a path relative to the folder, or the file's name. */
  name: string;
  className: string;
  /** Format, size and channel count, from the header alone where the source allows. */
  header(maxPixels: number): Promise<ImageHeader>;
  decode(maxPixels: number): Promise<DecodedImage>;
  /**
   * Optional: decodes the image as one sample of `out` at `offset` (as `decode` then
   * `writeImageSample` would) without a decoded image on the way; batches use it when present.
   */
  writeSample?(maxPixels: number, layout: ImageLayout, out: Float32Array, offset: number): Promise<void>;
}

export interface ImageDatasetOptions {
  /** `[height, width]` (or one number for a square) every image is resized to; default: the images' own size, when they all share one. */
  imageSize?: number | readonly [number, number];
  /** 1 (grey) or 3 (RGB); default: the images' own, when they all agree. Conversion is named in `LUMINANCE_WEIGHTS`. */
  channels?: 1 | 3;
  /** How images are resized (see `Interpolation`); default 'bilinear'. */
  interpolation?: Interpolation;
  /** Fraction of each class held out for validation (stratified, seeded), in (0, 1); default none. */
  validationSplit?: number;
  /** Seed of the validation split; default 0. */
  seed?: number;
  /** 'error' (default): a file that cannot be used is an `ImageDatasetError` naming it. 'skip': it is left out, counted and listed in `skipped`. */
  onInvalid?: 'error' | 'skip';
  /** Largest image accepted, in pixels (default `MAX_IMAGE_PIXELS`, 25 million). */
  maxPixels?: number;
}

/** A file left out with `onInvalid: 'skip'`, and why. */
export interface SkippedImage {
  file: string;
  reason: string;
}

/** What loading a folder gives: the classes, the layout, and the training (and validation) sets. */
export interface ImageFolderData {
  /** Class names, sorted; label i is `classNames[i]`. */
  classNames: string[];
  /** Per-sample input shape `[channels, height, width]`. */
  inputShape: [number, number, number];
  interpolation: Interpolation;
  train: ImageDataset;
  validation?: ImageDataset;
  /** Files left out (only with `onInvalid: 'skip'`); decoding failures found later are added as they happen, each file once. */
  skipped: SkippedImage[];
}

/** Host values with their shape, as `fit`/`evaluate`/`predict` take them. */
export interface ImageArray {
  values: Float32Array;
  shape: number[];
}

/** One batch: images (n, channels, height, width) and integer labels (n). */
export interface ImageBatch {
  x: ImageArray;
  y: { values: Int32Array; shape: [number] };
}

export interface BatchOptions {
  /** Images per batch; default 32. */
  batchSize?: number;
  /** A new order every pass; default false (folder order). */
  shuffle?: boolean;
  /** Seed of the order: pass p uses an order derived from (seed, p) only. Default 0. */
  seed?: number;
  /** The number of the first pass (default 0): a run resumed at epoch e passes e, and its order is the original run's. */
  firstPass?: number;
}

/**
 * Batches decoded as they are asked for. Each `for await` is one pass (an epoch of `fit`);
 * with `shuffle`, pass p (counted from 0) visits the images in an order that depends only on
 * (seed, p). While one batch is used, the next is already being read and decoded.
 */
export interface ImageBatches extends AsyncIterable<ImageBatch> {
  /**
   * Images in one pass: with `onInvalid: 'skip'`, fewer once a pass has found files that do
   * not decode (they are left out of every later pass and `load()`, not decoded again).
   */
  readonly sampleCount: number;
  /** Batches in one pass, of `sampleCount` images. */
  readonly batchCount: number;
}

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

/** Whether a file name has an image extension this loader reads (.png, .jpg, .jpeg, any case). */
export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.test(name);
}

/** The checked options with their defaults. */
interface Settings {
  imageSize?: [number, number];
  channels?: 1 | 3;
  interpolation: Interpolation;
  validationSplit?: number;
  seed: number;
  skip: boolean;
  maxPixels: number;
}

export const IMAGE_DATASET_OPTIONS = ['imageSize', 'channels', 'interpolation', 'validationSplit', 'seed', 'onInvalid', 'maxPixels'] as const;

function checkSettings(where: string, options: unknown): Settings {
  const o = checkOptions(where, options, IMAGE_DATASET_OPTIONS) as ImageDatasetOptions;
  return {
    imageSize: o.imageSize === undefined ? undefined : checkIntPair(where, 'imageSize', o.imageSize, 'positive', 65535),
    channels: o.channels === undefined ? undefined : checkOneOf(where, 'channels', o.channels, [1, 3] as const),
    interpolation: o.interpolation === undefined ? 'bilinear' : checkOneOf(where, 'interpolation', o.interpolation, ['bilinear', 'nearest'] as const),
    validationSplit:
      o.validationSplit === undefined ? undefined : checkNumberInRange(where, 'validationSplit', o.validationSplit, { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    seed: o.seed === undefined ? 0 : checkFiniteNumber(where, 'seed', o.seed),
    skip: (o.onInvalid === undefined ? 'error' : checkOneOf(where, 'onInvalid', o.onInvalid, ['error', 'skip'] as const)) === 'skip',
    maxPixels: o.maxPixels === undefined ? MAX_IMAGE_PIXELS : checkPositiveInt(where, 'maxPixels', o.maxPixels),
  };
}

/**
 * An image data set from sources of any kind (the shared core of `imageFolder` in Node and
 * `imageFolderFromFiles` / `imageFolderFromBitmaps` in the browser). Every header is read
 * first (not the pixels): the classes, sizes and channel counts are checked before any
 * training, and nothing is decoded until a batch or `load()` asks for it.
 *
 * `root` names the folder in messages about the folder as a whole.
 */
export async function createImageDataset(
  sources: readonly ImageSource[],
  root: string,
  options: ImageDatasetOptions = {},
  where = 'imageDataset',
  /** Every class, when known apart from the images (a folder's subfolders, empty ones included). */
  classList?: readonly string[],
): Promise<ImageFolderData> {
  const settings = checkSettings(where, options);
  // Class, then name: the order of a folder listing, whatever order the sources came in.
  sources = [...sources].sort((a, b) => compareNames(a.className, b.className) || compareNames(a.name, b.name));
  const classNames = [...new Set([...(classList ?? []), ...sources.map((s) => s.className)])].sort(compareNames);
  if (sources.length === 0) throw new ImageDatasetError(root, 'has no images (expected one subfolder per class with .png or .jpg files)');
  if (classNames.length < 2) {
    throw new ImageDatasetError(root, `has one class ('${classNames[0]}'); a classifier needs at least two class subfolders`);
  }
  const skipped: SkippedImage[] = [];
  const headers = await mapLimited(sources, 16, async (source) => {
    try {
      return await source.header(settings.maxPixels);
    } catch (error) {
      if (!settings.skip || !(error instanceof ImageDatasetError)) throw error;
      skipped.push({ file: source.name, reason: reasonOf(error) });
      return undefined;
    }
  });
  const kept: { source: ImageSource; header: ImageHeader }[] = [];
  sources.forEach((source, i) => {
    const header = headers[i];
    if (header) kept.push({ source, header });
  });
  const perClass = new Map(classNames.map((name) => [name, 0]));
  for (const { source } of kept) perClass.set(source.className, perClass.get(source.className)! + 1);
  for (const [name, count] of perClass) {
    if (count === 0) {
      const left = sources.filter((s) => s.className === name).length;
      throw new ImageDatasetError(root, `class '${name}' has no images${left > 0 ? ` left (all ${left} were skipped as invalid)` : ''}; remove the folder or add images`);
    }
  }
  const channels = settings.channels ?? commonChannels(kept);
  const [height, width] = settings.imageSize ?? commonSize(kept, root);
  const layout: ImageLayout = { channels, height, width, interpolation: settings.interpolation };
  const entries = kept.map(({ source }) => source);
  const labelOf = new Map(classNames.map((name, label) => [name, label]));
  const labels = Int32Array.from(entries, (s) => labelOf.get(s.className)!);
  const make = (indices: number[]): ImageDataset =>
    new ImageDataset(
      indices.map((i) => entries[i]),
      Int32Array.from(indices, (i) => labels[i]),
      classNames,
      layout,
      settings,
      skipped,
    );
  const all = entries.map((_, i) => i);
  const inputShape: [number, number, number] = [channels, height, width];
  if (settings.validationSplit === undefined) return { classNames, inputShape, interpolation: layout.interpolation, train: make(all), skipped };
  const { train, validation } = stratifiedSplit(labels, classNames, settings.validationSplit, settings.seed, root);
  return { classNames, inputShape, interpolation: layout.interpolation, train: make(train), validation: make(validation), skipped };
}

/** Code-unit order, the same in every locale (Python's `sorted`, as Keras and torchvision sort). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function commonChannels(kept: { source: ImageSource; header: ImageHeader }[]): 1 | 3 {
  const first = kept[0];
  const other = kept.find((k) => k.header.channels !== first.header.channels);
  if (other) {
    const kind = (k: typeof first): string => (k.header.channels === 1 ? 'grey' : 'colour');
    throw new ImageDatasetError(
      other.source.name,
      `is ${kind(other)} but ${first.source.name} is ${kind(first)}; the images mix channel counts: choose channels 1 (grey) or 3 (RGB) and each image is converted`,
    );
  }
  return first.header.channels;
}

function commonSize(kept: { source: ImageSource; header: ImageHeader }[], root: string): [number, number] {
  const first = kept[0];
  const other = kept.find((k) => k.header.width !== first.header.width || k.header.height !== first.header.height);
  if (other) {
    throw new ImageDatasetError(
      root,
      `images differ in size (${first.source.name} is ${first.header.width}×${first.header.height}, ${other.source.name} is ${other.header.width}×${other.header.height}); choose an imageSize [height, width] to resize them to`,
    );
  }
  return [first.header.height, first.header.width];
}

/**
 * Holds out `round(n_c · split)` images of each class c, chosen by a seeded shuffle of the
 * class's images; both sides keep folder order. Refused when a class would have no training
 * image (a small class at a large split: 1 image at split ≥ 0.5), or either side no image.
 */
export function stratifiedSplit(labels: Int32Array, classNames: readonly string[], split: number, seed: number, root: string): { train: number[]; validation: number[] } {
  const rng = createRandom(seed);
  const held = new Uint8Array(labels.length);
  // One pass puts each image in its class's list (in folder order, as the shuffle expects).
  const members: number[][] = classNames.map(() => []);
  labels.forEach((label, i) => members[label].push(i));
  members.forEach((list, c) => {
    const count = Math.round(list.length * split);
    if (count === list.length && list.length > 0) {
      throw new ImageDatasetError(
        root,
        `validationSplit ${split} holds out all ${list.length} image${list.length === 1 ? '' : 's'} of class '${classNames[c]}', leaving it no training image; expected at least one training image per class (add images to the class or use a smaller validationSplit)`,
      );
    }
    rng.shuffle(list);
    for (let k = 0; k < count; k++) held[list[k]] = 1;
  });
  const train: number[] = [];
  const validation: number[] = [];
  held.forEach((h, i) => (h ? validation : train).push(i));
  if (train.length === 0 || validation.length === 0) {
    throw new ImageDatasetError(
      root,
      `validationSplit ${split} of ${labels.length} images leaves ${train.length} for training and ${validation.length} for validation; each side needs at least one image`,
    );
  }
  return { train, validation };
}

/** One split of an image data set: its images (not decoded until asked for) and labels. */
export class ImageDataset {
  /** Images listed (their headers read); see `usableCount` for those left once some fail to decode. */
  readonly count: number;
  readonly inputShape: [number, number, number];
  /** Indices of the images found not to decode (with `onInvalid: 'skip'`): listed in `skipped` once, then left out. */
  private readonly failed = new Set<number>();

  /** @internal use `imageFolder`, `imageFolderFromFiles` or `imageFolderFromBitmaps`. */
  constructor(
    readonly sources: readonly ImageSource[],
    /** Label of each image: an index into `classNames`. */
    readonly labels: Int32Array,
    readonly classNames: readonly string[],
    private readonly layout: ImageLayout,
    private readonly settings: Settings,
    /** Shared with the `ImageFolderData` this set came from. */
    readonly skipped: SkippedImage[],
  ) {
    this.count = sources.length;
    this.inputShape = [layout.channels, layout.height, layout.width];
  }

  /** Images not (yet) found to fail decoding: `count` less the ones skipped while decoding. */
  get usableCount(): number {
    return this.count - this.failed.size;
  }

  /** Values per image: channels × height × width. */
  get sampleSize(): number {
    return this.layout.channels * this.layout.height * this.layout.width;
  }

  /**
   * Every image decoded into memory: x (count, channels, height, width) in [0, 1] and
   * integer labels y (count). With `onInvalid: 'skip'`, images that fail to decode are left
   * out (and listed in `skipped`).
   */
  async load(): Promise<ImageBatch> {
    return this.decodeBatch(this.sources.map((_, i) => i).filter((i) => !this.failed.has(i)));
  }

  /** Lazily decoded batches (see `ImageBatches`). */
  batches(options: BatchOptions = {}): ImageBatches {
    const where = 'ImageDataset.batches';
    const o = checkOptions(where, options, ['batchSize', 'shuffle', 'seed', 'firstPass']) as BatchOptions;
    const batchSize = o.batchSize === undefined ? 32 : checkPositiveInt(where, 'batchSize', o.batchSize);
    const shuffle = checkBoolean(where, 'shuffle', o.shuffle, false);
    const seed = o.seed === undefined ? 0 : checkFiniteNumber(where, 'seed', o.seed);
    const count = this.count;
    let pass = o.firstPass === undefined ? 0 : checkNonNegativeInt(where, 'firstPass', o.firstPass);
    const dataset = this;
    return {
      get sampleCount() {
        return dataset.usableCount;
      },
      get batchCount() {
        return Math.ceil(dataset.usableCount / batchSize);
      },
      [Symbol.asyncIterator]() {
        // The order of all `count` images with the failed ones taken out: the rest keep their order.
        const thisPass = pass++;
        // Shuffled as fit shuffles arrays (seededOrder): the same seed visits the images in the same order.
        const order = shuffle ? seededOrder(count, seed, thisPass) : Int32Array.from({ length: count }, (_, i) => i);
        return dataset.iterate(dataset.failed.size === 0 ? order : order.filter((i) => !dataset.failed.has(i)), batchSize);
      },
    };
  }

  private async *iterate(order: Int32Array, batchSize: number): AsyncGenerator<ImageBatch> {
    const slice = (from: number): number[] => Array.from(order.subarray(from, Math.min(order.length, from + batchSize)));
    let next: Promise<ImageBatch> | undefined = order.length > 0 ? this.decodeBatch(slice(0)) : undefined;
    for (let from = 0; next; from += batchSize) {
      const current: Promise<ImageBatch> = next;
      // Start the next batch now: its reads (and, between awaits, its decoding) overlap the
      // consumer's work on this one. Its failure is reported when it is awaited, in order.
      next = from + batchSize < order.length ? this.decodeBatch(slice(from + batchSize)) : undefined;
      next?.catch(() => undefined);
      const batch = await current;
      if (batch.y.shape[0] > 0) yield batch;
    }
  }

  /** Decodes the images `indices` (in that order) into one batch. */
  private async decodeBatch(indices: number[]): Promise<ImageBatch> {
    const { layout, settings } = this;
    const size = this.sampleSize;
    const values = new Float32Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    let n = 0;
    // Reads run together (a handful at a time); decoding happens as each arrives.
    await mapLimited(indices, 8, async (index, k) => {
      const source = this.sources[index];
      try {
        if (source.writeSample) await source.writeSample(settings.maxPixels, layout, values, k * size);
        else writeImageSample(await source.decode(settings.maxPixels), layout, values, k * size);
      } catch (error) {
        if (!settings.skip || !(error instanceof ImageDatasetError)) throw error;
        if (!this.failed.has(index)) {
          this.failed.add(index);
          this.skipped.push({ file: source.name, reason: reasonOf(error) });
        }
        labels[k] = -1;
        return;
      }
      labels[k] = this.labels[index];
      n++;
    });
    if (n === indices.length) return { x: { values, shape: [n, ...this.inputShape] }, y: { values: labels, shape: [n] } };
    // Close the gaps the skipped images left.
    let to = 0;
    for (let k = 0; k < indices.length; k++) {
      if (labels[k] < 0) continue;
      if (to !== k) values.copyWithin(to * size, k * size, (k + 1) * size);
      labels[to++] = labels[k];
    }
    return { x: { values: values.slice(0, n * size), shape: [n, ...this.inputShape] }, y: { values: labels.slice(0, n), shape: [n] } };
  }
}

/** `fn` over `items` with at most `limit` calls in flight; results in order. The first failure rejects. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The error's message without the file name it starts with (the skip list names the file). */
function reasonOf(error: ImageDatasetError): string {
  const prefix = `${error.file}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

const HEAD_BYTES = 4096;

/** Sources that read bytes (files on disk, browser `File`s) share header reading and decoding. */
export function bytesSource(
  name: string,
  className: string,
  readHead: (bytes: number) => Promise<Uint8Array>,
  readAll: () => Promise<Uint8Array>,
): ImageSource {
  const read = async (what: () => Promise<Uint8Array>): Promise<Uint8Array> => {
    try {
      return await what();
    } catch (error) {
      throw new ImageDatasetError(name, `cannot be read (${(error as { code?: string })?.code ?? (error as Error)?.message ?? String(error)})`);
    }
  };
  return {
    name,
    className,
    async header(maxPixels) {
      // 4 KiB holds the header of any PNG and of most JPEGs (EXIF and colour profiles come
      // before the frame header and may be longer: then the whole file is read). Small, as
      // every file's header is read when the data set is made.
      const head = await read(() => readHead(HEAD_BYTES));
      const header = readImageHeader(head, name, maxPixels) ?? (head.length < HEAD_BYTES ? undefined : readImageHeader(await read(readAll), name, maxPixels));
      if (!header) throw new ImageDatasetError(name, 'not a valid JPEG image (truncated before its frame header)');
      return header;
    },
    async decode(maxPixels) {
      return decodeImage(await read(readAll), name, maxPixels);
    },
    async writeSample(maxPixels, layout, out, offset) {
      decodeImageInto(await read(readAll), name, maxPixels, layout, out, offset);
    },
  };
}
