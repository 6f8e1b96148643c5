import type { Suite } from '../suite.js';
import { crc32cSuite } from './crc32c.js';
import { encodeSuite } from './encode.js';
import { mmapSuite } from './mmap.js';
import { segmentAppendSuite } from './segment-append.js';
import { segmentReopenSuite } from './segment-reopen.js';
import { senderSuite } from './sender.js';
import { senderLatencySuite } from './sender-latency.js';
import { senderRssSuite } from './sender-rss.js';
import { testServerSuite } from './test-server.js';

/** Every suite, in the order `bench` runs them. Each issue adds its own. */
export const suites: Suite[] = [
  crc32cSuite,
  mmapSuite,
  encodeSuite,
  segmentAppendSuite,
  segmentReopenSuite,
  testServerSuite,
  senderSuite,
  senderLatencySuite,
  senderRssSuite,
];
