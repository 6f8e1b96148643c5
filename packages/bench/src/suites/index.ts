import type { Suite } from '../suite.js';
import { crc32cSuite } from './crc32c.js';
import { encodeSuite } from './encode.js';
import { mmapSuite } from './mmap.js';
import { segmentAppendSuite } from './segment-append.js';
import { segmentRecoverySuite } from './segment-recovery.js';
import { segmentReopenSuite } from './segment-reopen.js';
import { segmentSlotSuite } from './segment-slot.js';
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
  segmentRecoverySuite,
  segmentSlotSuite,
  testServerSuite,
  senderSuite,
  senderLatencySuite,
  senderRssSuite,
];
