import { BackpropError, describeValue } from '@backprop/tensor';
import type { DecodedImage, ImageHeader } from './decode.js';
import { ImageDatasetError } from './decode.js';
import { bytesSource, createImageDataset, type ImageDatasetOptions, type ImageFolderData, type ImageSource, isImageFileName } from './folder.js';

/** The part of a browser `File` (or `Blob` with a name) the loader uses. */
export interface FileLike {
  name: string;
  /** Set on files picked with `<input type="file" webkitdirectory>`: `root/class/…/image.png`. */
  webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** A file with its class given explicitly. */
export interface LabelledFile {
  className: string;
  file: FileLike;
}

/**
 * An image data set from browser files: either the `FileList` of a folder picked with
 * `<input type="file" webkitdirectory>` (each file's class is the first folder below the
 * picked one, read from `webkitRelativePath`), or a list of `{ className, file }`. Files
 * without a .png/.jpg/.jpeg name, and files directly in the picked folder, are not images of
 * a class and are left out (counted in `ignored`); a class folder holding only such files is
 * still a class (an error: it has no images), as in Node, so that it cannot vanish and shift
 * the labels of the classes after it. Decoding, conversion, resizing, the split and every
 * check are those of `imageFolder` in Node.
 */
export async function imageFolderFromFiles(
  files: Iterable<FileLike> | ArrayLike<FileLike> | Iterable<LabelledFile>,
  options: ImageDatasetOptions = {},
): Promise<ImageFolderData & { ignored: string[] }> {
  const where = 'imageFolderFromFiles';
  const list = toList<FileLike | LabelledFile>(where, files as Iterable<FileLike | LabelledFile>);
  const sources: ImageSource[] = [];
  const ignored: string[] = [];
  // Every class a file was picked in, its images or not (imageFolder's subfolders).
  const classes = new Set<string>();
  let root = 'the files';
  list.forEach((item, i) => {
    if (isLabelled(item)) {
      if (typeof item.className !== 'string' || item.className === '') throw new BackpropError(where, `item ${i}: className must be a non-empty string, got ${describeValue(item.className)}`);
      const name = `${item.className}/${item.file.name}`;
      classes.add(item.className);
      if (!isImageFileName(item.file.name)) ignored.push(name);
      else sources.push(fileSource(name, item.className, item.file));
      return;
    }
    if (!isFileLike(item)) throw new BackpropError(where, `item ${i} must be a File or { className, file }, got ${describeValue(item)}`);
    const path = item.webkitRelativePath;
    if (!path) {
      throw new BackpropError(where, `${item.name} has no webkitRelativePath (pick a folder with <input type="file" webkitdirectory>, or pass { className, file } items)`);
    }
    const parts = path.split('/');
    root = parts[0];
    if (parts.length >= 3) classes.add(parts[1]);
    if (parts.length < 3 || !isImageFileName(item.name)) ignored.push(path);
    else sources.push(fileSource(path, parts[1], item));
  });
  return { ...(await createImageDataset(sources, root, options, where, [...classes])), ignored };
}

/** A decoded `ImageBitmap` with its class (and a name for messages). */
export interface LabelledBitmap {
  className: string;
  bitmap: ImageBitmap;
  name?: string;
}

/**
 * An image data set from `ImageBitmap`s (already decoded by the browser, e.g. from
 * `createImageBitmap(blob)` or a canvas). Their pixels are read through an
 * `OffscreenCanvas`; they count as colour images (give `channels: 1` for grey), and the
 * resizing, split and checks are those of `imageFolderFromFiles`.
 */
export async function imageFolderFromBitmaps(items: readonly LabelledBitmap[], options: ImageDatasetOptions = {}): Promise<ImageFolderData> {
  const where = 'imageFolderFromBitmaps';
  const list = toList(where, items) as LabelledBitmap[];
  const sources = list.map((item, i): ImageSource => {
    if (!item || typeof item !== 'object' || typeof item.className !== 'string' || item.className === '' || !item.bitmap) {
      throw new BackpropError(where, `item ${i} must be { className, bitmap, name? }, got ${describeValue(item)}`);
    }
    const name = item.name ?? `${item.className}/bitmap ${i}`;
    const { bitmap } = item;
    const header = (maxPixels: number): ImageHeader => {
      const { width, height } = bitmap;
      if (!(width >= 1 && height >= 1)) throw new ImageDatasetError(name, `the bitmap is ${width}×${height}; width and height must be at least 1 (closed?)`);
      if (width * height > maxPixels) throw new ImageDatasetError(name, `the bitmap is ${width}×${height}, more than the limit of ${maxPixels} pixels`);
      return { format: 'png', width, height, channels: 3 };
    };
    return {
      name,
      className: item.className,
      header: async (maxPixels) => header(maxPixels),
      decode: async (maxPixels) => bitmapPixels(bitmap, header(maxPixels), name),
    };
  });
  return createImageDataset(sources, 'the bitmaps', options, where);
}

function bitmapPixels(bitmap: ImageBitmap, { width, height }: ImageHeader, name: string): DecodedImage {
  if (typeof OffscreenCanvas !== 'function') throw new ImageDatasetError(name, 'cannot read an ImageBitmap here (no OffscreenCanvas)');
  const context = new OffscreenCanvas(width, height).getContext('2d');
  if (!context) throw new ImageDatasetError(name, 'cannot read an ImageBitmap here (no 2D canvas context)');
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = rgba[4 * i + c] / 255;
  return { width, height, channels: 3, data };
}

function fileSource(name: string, className: string, file: FileLike): ImageSource {
  return bytesSource(
    name,
    className,
    async (n) => new Uint8Array(await file.slice(0, n).arrayBuffer()),
    async () => new Uint8Array(await file.arrayBuffer()),
  );
}

function toList<T>(where: string, value: Iterable<T> | ArrayLike<T>): T[] {
  if (value && typeof value === 'object' && (Symbol.iterator in value || 'length' in value)) return Array.from(value as ArrayLike<T>);
  throw new BackpropError(where, `expects a list (a FileList or an array), got ${describeValue(value)}`);
}

function isLabelled(item: unknown): item is LabelledFile {
  return typeof item === 'object' && item !== null && 'className' in item && 'file' in item && isFileLike((item as LabelledFile).file);
}

function isFileLike(item: unknown): item is FileLike {
  return typeof item === 'object' && item !== null && typeof (item as FileLike).name === 'string' && typeof (item as FileLike).arrayBuffer === 'function' && typeof (item as FileLike).slice === 'function';
}
