/**
 * Errors @qwp/crc32c throws. The native binding raises these (it receives the
 * classes at load) and so does the JavaScript kernel, so every bad argument
 * surfaces as one of them with a stable `code` and a message naming the
 * argument at fault.
 */

/** Codes carried by this package's errors. */
export const Crc32cErrorCode = {
  invalidArgType: 'ERR_QWP_CRC32C_INVALID_ARG_TYPE',
  outOfRange: 'ERR_QWP_CRC32C_OUT_OF_RANGE',
  load: 'ERR_QWP_CRC32C_LOAD',
} as const;

/** An argument of the wrong type: data that is not a buffer, an offset that is not a number. */
export class Crc32cTypeError extends TypeError {
  readonly code = Crc32cErrorCode.invalidArgType;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Crc32cTypeError';
  }
}

/** A number out of range: negative, fractional, NaN, or past the end of the data. */
export class Crc32cRangeError extends RangeError {
  readonly code = Crc32cErrorCode.outOfRange;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Crc32cRangeError';
  }
}

/**
 * The native addon could not be found or loaded for this platform. Never
 * thrown by an import: nativeLoadError() returns it, and the 'js' kernel
 * computes every CRC instead.
 */
export class Crc32cLoadError extends Error {
  readonly code = Crc32cErrorCode.load;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Crc32cLoadError';
  }
}
