import { constants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';

/**
 * A Node-style system error (`code`, negative `errno`, `syscall`, `path`),
 * made in JS: by FaultInjectingFiles for the faults it injects, so code under
 * test sees exactly the shape a real failure has.
 */
export class FileSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;

  /**
   * @param code errno name such as 'ENOSPC'
   * @param syscall the call that failed, e.g. 'fallocate'
   * @param path the file involved, when known
   */
  constructor(code: string, syscall: string, path?: string, options?: { cause?: unknown }) {
    const errno = -((constants.errno as Record<string, number>)[code] ?? 0);
    const text = getSystemErrorMap().get(errno)?.[1] ?? 'unknown error';
    super(`${code}: ${text}, ${syscall}${path === undefined ? '' : ` '${path}'`}`, options);
    this.name = 'Error';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.path = path;
  }
}

/** A FileSystemError raised on purpose by FaultInjectingFiles (`injected` tells them apart in logs). */
export class InjectedFaultError extends FileSystemError {
  readonly injected = true;
}

/**
 * An argument with a wrong value: a mapping mode, advice name or
 * FaultInjectingFiles method not among the allowed strings, a path with a NUL
 * byte, an ArrayBuffer that mmap did not make.
 */
export class InvalidArgumentError extends TypeError {
  readonly code = 'ERR_QWP_FILES_INVALID_ARG_VALUE';
}

/** An argument of the wrong type: a string where a number belongs, a number where a boolean does. */
export class InvalidArgumentTypeError extends TypeError {
  readonly code = 'ERR_QWP_FILES_INVALID_ARG_TYPE';
}

/** msync or madvise on a mapping that was already unmapped. */
export class InvalidStateError extends Error {
  readonly code = 'ERR_QWP_FILES_INVALID_STATE';
}

/**
 * No compiled addon for this platform could be found or loaded; `cause` says
 * why. Thrown by the first call that needs the addon (and every later one),
 * never by the import; `loadNative()` throws it on demand.
 */
export class AddonLoadError extends Error {
  readonly code = 'ERR_QWP_FILES_LOAD';
}

/** A length or offset outside what the platform can map, or a fault trigger count out of range. */
export class OutOfRangeError extends RangeError {
  readonly code = 'ERR_QWP_FILES_OUT_OF_RANGE';
}

/** The package's class for each code the addon gives its argument and state errors. */
const ADDON_ERROR_CLASSES: Record<string, new (message: string, options?: ErrorOptions) => Error> =
  {
    ERR_QWP_FILES_INVALID_ARG_TYPE: InvalidArgumentTypeError,
    ERR_QWP_FILES_INVALID_ARG_VALUE: InvalidArgumentError,
    ERR_QWP_FILES_OUT_OF_RANGE: OutOfRangeError,
    ERR_QWP_FILES_INVALID_STATE: InvalidStateError,
  };

/**
 * What to throw for an error from the addon: its argument and state errors
 * (plain TypeError/RangeError/Error with a code, as Node-API makes them)
 * become the package's class for that code, same message, the original as
 * `cause`; system errors are completed as by completeSystemError.
 */
export function fromAddon(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && Object.hasOwn(ADDON_ERROR_CLASSES, code)) {
    const Class = ADDON_ERROR_CLASSES[code]!;
    const message = err.message;
    return err instanceof Class ? err : new Class(message, { cause: err });
  }
  return completeSystemError(err, undefined);
}

/** Describes a received argument for an error message without ever throwing (no coercion). */
export function describeReceived(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `type ${typeof value} (${String(value)})`;
  }
  if (value === null) return 'null';
  return `type ${typeof value}`;
}

interface SystemErrorLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  message: string;
}

/**
 * Completes a system error thrown by the addon or node:fs: fills in `path`
 * (for fd-based calls the caller knows it, the kernel does not) and replaces
 * an `UNKNOWN` code by the name Node gives that errno. Returns the same object.
 */
export function completeSystemError(err: unknown, path: string | undefined): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & SystemErrorLike;
  if (typeof e.syscall !== 'string') return err;
  if (e.code === 'UNKNOWN' && typeof e.errno === 'number') {
    e.code = getSystemErrorName(e.errno);
  }
  if (path !== undefined && e.path === undefined) {
    e.path = path;
    e.message = `${e.message} '${path}'`;
  }
  return err;
}
