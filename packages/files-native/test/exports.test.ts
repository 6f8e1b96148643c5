import { describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import * as testing from '../src/testing.js';

// Each entry point's runtime surface, spelled out: adding or removing an
// export is a decision to make here, not a side effect of a refactor.
const ROOT = [
  'AddonLoadError',
  'FileSystemError',
  'InvalidArgumentError',
  'InvalidArgumentTypeError',
  'InvalidStateError',
  'NodeFiles',
  'OutOfRangeError',
  'addonPath',
  'defaultFiles',
  'fallocate',
  'fsyncDir',
  'loadNative',
  'madvise',
  'mappingStats',
  'mmap',
  'msync',
  'munmap',
  'nativeLoadError',
  'pageSize',
  'selfCheck',
  'tryLock',
  'unlock',
];
const TESTING = ['FaultInjectingFiles', 'InjectedFaultError'];

describe('files-native entry points', () => {
  it('export exactly their lists', () => {
    expect(Object.keys(root).sort()).toEqual(ROOT);
    expect(Object.keys(testing).sort()).toEqual(TESTING);
  });

  it('keep the internals out of the root', () => {
    for (const name of ['FaultInjectingFiles']) expect(Object.hasOwn(root, name), name).toBe(false);
  });
});
