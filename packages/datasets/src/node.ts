/** The Node entry point: image folders read from and written to disk (`node:fs`), kept out of browser bundles. */
export { encodeImage } from './images/encode.js';
export { imageFolder, isImageFolder, writeImageFolder, writeMnistImageFolder } from './images/node.js';
export type { WriteImageFolderOptions, WriteMnistImageFolderOptions } from './images/node.js';
