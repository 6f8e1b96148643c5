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

/** A mapping mode, advice name or FaultInjectingFiles method that is not one of the allowed strings. */
export class InvalidArgumentError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
}

/** No compiled addon for this platform could be found or loaded; `cause` says why. */
export class AddonLoadError extends Error {
  readonly code = 'ERR_QWP_FILES_LOAD';
}

/** A length or offset outside what the platform can map, or a fault trigger count out of range. */
export class OutOfRangeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE';
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
