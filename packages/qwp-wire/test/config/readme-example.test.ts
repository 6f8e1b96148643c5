import { expect, test } from 'vitest';
import { parseConnectString } from '../../src/index.js';

test('the README example holds, through the package entry point', () => {
  const config = parseConnectString(
    'wss::addr=node-a:9000,node-b;username=ingest;password=p;;w;sf_dir=/var/lib/app/qwp;sf_max_total_bytes=50g;',
  );
  expect(config.addresses).toEqual([
    { host: 'node-a', port: 9000 },
    { host: 'node-b', port: 9000 },
  ]);
  expect(config.password).toBe('p;w');
  expect(config.sfMaxTotalBytes).toBe(53_687_091_200);
  expect(config.initialConnectRetry).toBe('off');
  expect(String(config)).toBe(
    'wss::addr=node-a:9000,node-b;username=ingest;password=***;sf_dir=/var/lib/app/qwp;sf_max_total_bytes=50g;',
  );
});
