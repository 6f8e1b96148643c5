import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Crc32cLoadError, Crc32cRangeError, Crc32cTypeError } from './errors.js';

/** Bytes a range checksum can read: any buffer or view over one. */
export type ByteSource = ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

/** One CRC32C kernel: the addon's, or the JavaScript one. */
export interface Crc32cImplementation {
  /** 'js', 'portable', 'sse4.2', 'avx2+vpclmulqdq', 'sse4.2+vpclmulqdq' or 'armv8-crc'. */
  readonly name: string;
  /** CRC32C of `data`, continuing from `initial` (a previous result, default 0). */
  crc32c(data: Uint8Array, initial?: number): number;
  /** CRC32C of bytes [offset, offset + length) of `data`, continuing from `initial`. */
  crc32cRange(data: ByteSource, offset: number, length: number, initial?: number): number;
}

interface NativeBinding {
  /** Every kernel this CPU can run, portable first, fastest last. */
  implementations: Crc32cImplementation[];
  setErrorClasses(typeError: typeof Crc32cTypeError, rangeError: typeof Crc32cRangeError): void;
}

/**
 * Loads the addon for this platform (prebuilds/<platform>-<arch>/ first, then
 * build/Release) and hands it the package's error classes.
 */
export function loadBinding(): NativeBinding {
  // src/ and dist/ both sit one level below the package root.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const require = createRequire(import.meta.url);
  let binding: NativeBinding;
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    binding = nodeGypBuild(root) as NativeBinding;
  } catch (err) {
    throw new Crc32cLoadError(
      `@qwp/crc32c: no native build for ${process.platform}-${process.arch} under ${root}; ` +
        'install Python 3, make and a C compiler, then run `npm rebuild @qwp/crc32c`',
      { cause: err },
    );
  }
  // A module whose init failed part-way (out of memory) exports less; say so
  // instead of failing later with "undefined is not a function".
  if (
    typeof binding?.setErrorClasses !== 'function' ||
    !Array.isArray(binding.implementations) ||
    binding.implementations.length === 0
  ) {
    throw new Crc32cLoadError(`@qwp/crc32c: the native build under ${root} did not initialise`);
  }
  binding.setErrorClasses(Crc32cTypeError, Crc32cRangeError);
  return binding;
}
