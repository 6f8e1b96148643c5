import { expect } from 'vitest';
import { parseConnectString } from '../../src/config/index.js';
import { ConnectStringError, type ConnectStringErrorCode } from '../../src/errors.js';

/** Parses and returns the ConnectStringError it must throw. */
export function rejectOf(input: string): ConnectStringError {
  try {
    parseConnectString(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectStringError);
    return e as ConnectStringError;
  }
  throw new Error(`expected '${input}' to be rejected`);
}

/** Asserts that the input is rejected with `code`, naming `key` in the error and its message. */
export function expectReject(
  input: string,
  code: ConnectStringErrorCode,
  key: string,
  message?: RegExp,
): ConnectStringError {
  const err = rejectOf(input);
  expect(err.code).toBe(code);
  expect(err.key).toBe(key);
  expect(err.message).toContain(key);
  if (message !== undefined) {
    expect(err.message).toMatch(message);
  }
  return err;
}
