import { describe, expect, test } from 'vitest';
import { HostIndexError, QwpError } from '../../src/errors.js';
import {
  type HostPick,
  type HostState,
  HostTracker,
  type HostTrackerOptions,
  type ZoneTier,
} from '../../src/failover/index.js';

const ADDRS = ['a', 'b', 'c', 'd', 'e'];

function pickedIndex<A>(pick: HostPick<A>): number {
  return pick.kind === 'host' ? pick.index : -1;
}

/** Picks and marks every host of the round as a transport error, returning the order. */
function walkRound(tracker: HostTracker<string>): string[] {
  const order: string[] = [];
  for (;;) {
    const pick = tracker.next();
    if (pick.kind === 'round-end') {
      return order;
    }
    order.push(pick.address);
    tracker.recordTransportError(pick.index);
  }
}

/** Drives a tracker into the given per-host states and zones. */
function trackerWith(
  states: HostState[],
  zones: (string | undefined)[],
  options: HostTrackerOptions,
): HostTracker<string> {
  const tracker = new HostTracker(ADDRS.slice(0, states.length), options);
  states.forEach((state, i) => {
    const zone = zones[i];
    switch (state) {
      case 'healthy':
        tracker.recordSuccess(i, zone);
        break;
      case 'unknown':
        if (zone !== undefined) {
          // Learn the zone, then forget the classification as a new outage does.
          tracker.recordRoleReject(i, true, zone);
        }
        break;
      case 'transient-reject':
        tracker.recordRoleReject(i, true, zone);
        break;
      case 'transport-error':
        tracker.recordTransportError(i);
        break;
      case 'topology-reject':
        tracker.recordRoleReject(i, false, zone);
        break;
    }
  });
  // Reset 'unknown' hosts that learned a zone through a reject.
  states.forEach((state, i) => {
    if (state === 'unknown' && zones[i] !== undefined) {
      forceUnknown(tracker, i);
    }
  });
  tracker.beginRound();
  return tracker;
}

/** Makes host i `unknown` again without touching others, via a new outage and replay. */
function forceUnknown(tracker: HostTracker<string>, i: number): void {
  // The only public way back to `unknown` is startOutage(); replay the other
  // hosts' states afterwards so only host i changes.
  const saved = Array.from({ length: tracker.count }, (_, j) => tracker.state(j));
  tracker.startOutage();
  saved.forEach((state, j) => {
    if (j === i || state === 'unknown') return;
    if (state === 'healthy') tracker.recordSuccess(j);
    if (state === 'transport-error') tracker.recordTransportError(j);
    if (state === 'transient-reject') tracker.recordRoleReject(j, true);
    if (state === 'topology-reject') tracker.recordRoleReject(j, false);
  });
}

describe('state table: which event moves a host where', () => {
  test.each<[string, (t: HostTracker<string>) => void, HostState]>([
    ['nothing yet', () => {}, 'unknown'],
    ['connect ok', (t) => t.recordSuccess(0), 'healthy'],
    ['421 + PRIMARY_CATCHUP', (t) => t.recordRoleReject(0, true), 'transient-reject'],
    ['TCP/TLS/upgrade failure', (t) => t.recordTransportError(0), 'transport-error'],
    ['421 + REPLICA under target=primary', (t) => t.recordRoleReject(0, false), 'topology-reject'],
    [
      'mid-stream failure of a healthy host',
      (t) => {
        t.recordSuccess(0);
        t.recordMidStreamFailure(0);
      },
      'transport-error',
    ],
    [
      'mid-stream failure keeps a reject classification',
      (t) => {
        t.recordRoleReject(0, false);
        t.recordMidStreamFailure(0);
      },
      'topology-reject',
    ],
    [
      'new outage forgets a transport error',
      (t) => {
        t.recordTransportError(0);
        t.startOutage();
      },
      'unknown',
    ],
    [
      'next round of the same outage keeps a transport error',
      (t) => {
        t.recordTransportError(0);
        t.beginRound();
      },
      'transport-error',
    ],
  ])('%s → %s', (_event, act, expected) => {
    const t = new HostTracker(['a', 'b']);
    act(t);
    expect(t.state(0)).toBe(expected);
    expect(t.state(1)).toBe('unknown');
  });
});

describe('zone tier table', () => {
  test.each<[string, HostTrackerOptions, string | undefined, ZoneTier]>([
    ['zone= unset (ingress)', {}, 'eu-west-1b', 'same'],
    ['zone= unset, nothing advertised', {}, undefined, 'same'],
    ['advertised zone matches', { zone: 'eu-west-1a' }, 'eu-west-1a', 'same'],
    ['match is case-insensitive', { zone: 'EU-West-1a' }, 'eu-WEST-1A', 'same'],
    ['nothing advertised yet', { zone: 'eu-west-1a' }, undefined, 'unknown'],
    ['different zone', { zone: 'eu-west-1a' }, 'us-east-1', 'other'],
    [
      'target=primary collapses to same',
      { zone: 'eu-west-1a', target: 'primary' },
      'us-east-1',
      'same',
    ],
    ['target=replica keeps zones', { zone: 'eu-west-1a', target: 'replica' }, 'us-east-1', 'other'],
    ['blank zone= is unset', { zone: '  ' }, 'us-east-1', 'same'],
  ])('%s', (_case, options, advertised, tier) => {
    const t = new HostTracker(['a'], options);
    t.recordSuccess(0, advertised);
    expect(t.zoneTier(0)).toBe(tier);
  });

  test('a zone learnt from a 421 reject is remembered', () => {
    const t = new HostTracker(['a'], { zone: 'z1' });
    t.recordRoleReject(0, false, 'z2');
    t.startOutage();
    expect(t.state(0)).toBe('unknown');
    expect(t.zoneTier(0)).toBe('other');
  });

  test('a success without a zone keeps the zone advertised before', () => {
    const t = new HostTracker(['a'], { zone: 'z1' });
    t.recordSuccess(0, 'z1');
    t.recordSuccess(0);
    expect(t.zoneTier(0)).toBe('same');
  });
});

describe('selection priority: (state, zone tier) lexicographic, addr order in ties', () => {
  test.each<[string, HostState[], (string | undefined)[], HostTrackerOptions, string[]]>([
    ['untried hosts in addr order', ['unknown', 'unknown', 'unknown'], [], {}, ['a', 'b', 'c']],
    [
      'state order healthy < unknown < transient < transport < topology',
      ['topology-reject', 'transport-error', 'transient-reject', 'unknown', 'healthy'],
      [],
      {},
      ['e', 'd', 'c', 'b', 'a'],
    ],
    [
      'ties keep addr order',
      ['transport-error', 'unknown', 'transport-error', 'unknown'],
      [],
      {},
      ['b', 'd', 'a', 'c'],
    ],
    [
      'zone breaks ties within a state: same < unknown < other',
      ['unknown', 'unknown', 'unknown'],
      ['z2', undefined, 'z1'],
      { zone: 'z1' },
      ['c', 'b', 'a'],
    ],
    [
      'state wins over zone: a known-good remote host beats an untried local one',
      ['unknown', 'healthy'],
      ['z1', 'z2'],
      { zone: 'z1' },
      ['b', 'a'],
    ],
    [
      'remote transient reject beats local transport error',
      ['transport-error', 'transient-reject'],
      ['z1', 'z2'],
      { zone: 'z1' },
      ['b', 'a'],
    ],
    [
      'ingress is zone-blind: addr order among equal states',
      ['unknown', 'unknown', 'unknown'],
      ['z2', 'z3', 'z1'],
      {},
      ['a', 'b', 'c'],
    ],
  ])('%s', (_case, states, zones, options, expected) => {
    const tracker = trackerWith(states, zones, options);
    expect(states.map((_, i) => tracker.state(i))).toEqual(states);
    expect(walkRound(tracker)).toEqual(expected);
  });

  test('each host is picked at most once per round', () => {
    const t = new HostTracker(ADDRS);
    const seen = walkRound(t);
    expect(seen).toEqual(ADDRS);
    expect(t.isRoundExhausted()).toBe(true);
    expect(t.next().kind).toBe('round-end');
    expect(t.next().kind).toBe('round-end');
  });
});

describe('sticky-healthy across outages', () => {
  test('the last healthy same-zone host stays first; everything else is forgotten', () => {
    const t = new HostTracker(['a', 'b', 'c']);
    t.recordTransportError(0);
    t.recordRoleReject(1, false);
    t.recordSuccess(2);
    t.startOutage();
    expect([t.state(0), t.state(1), t.state(2)]).toEqual(['unknown', 'unknown', 'healthy']);
    expect(pickedIndex(t.next())).toBe(2);
  });

  test('a healthy host in another zone is reset, so local hosts are probed first', () => {
    const t = new HostTracker(['local', 'remote'], { zone: 'z1' });
    t.recordSuccess(0, 'z1');
    t.recordMidStreamFailure(0);
    t.startOutage();
    // The demoted local host ranks after the untried remote one.
    const remote = t.next();
    expect(remote).toMatchObject({ kind: 'host', address: 'remote' });
    t.recordSuccess(1, 'z2');
    // A blip on the remote connection: not sticky, local is tried first.
    t.startOutage();
    expect(t.state(1)).toBe('unknown');
    expect(t.next()).toMatchObject({ kind: 'host', address: 'local' });
  });

  test('a healthy host whose zone is still unknown is not sticky', () => {
    const t = new HostTracker(['a', 'b'], { zone: 'z1' });
    t.recordSuccess(1);
    t.startOutage();
    expect(t.state(1)).toBe('unknown');
  });

  test('with several healthy hosts the most recent success is sticky', () => {
    const t = new HostTracker(['a', 'b', 'c']);
    t.recordSuccess(2);
    t.recordSuccess(0);
    t.startOutage();
    expect([t.state(0), t.state(1), t.state(2)]).toEqual(['healthy', 'unknown', 'unknown']);
  });
});

describe('mid-stream demotion before the next pick', () => {
  test('without demotion the broken host would be re-picked; with it the next peer is', () => {
    const t = new HostTracker(['a', 'b']);
    t.recordSuccess(0);
    // The bound connection to a breaks mid-stream.
    t.recordMidStreamFailure(0);
    t.startOutage();
    expect(t.next()).toMatchObject({ kind: 'host', address: 'b' });

    const control = new HostTracker(['a', 'b']);
    control.recordSuccess(0);
    control.startOutage();
    expect(control.next()).toMatchObject({ kind: 'host', address: 'a' });
  });

  test('within a round, a demoted host is not offered again', () => {
    const t = new HostTracker(['a', 'b']);
    t.recordSuccess(0);
    t.recordMidStreamFailure(0);
    t.beginRound();
    expect(walkRound(t)).toEqual(['b', 'a']);
  });
});

describe('rounds', () => {
  test('a round of transport errors ends with exponential backoff', () => {
    const t = new HostTracker(['a', 'b']);
    walkRound(t);
    expect(t.next()).toEqual({
      kind: 'round-end',
      round: 1,
      backoff: 'exponential',
      transportErrors: 2,
      roleRejects: 0,
    });
  });

  test('a round where every host role-rejects pays the initial backoff', () => {
    const t = new HostTracker(['a', 'b', 'c']);
    t.recordRoleReject(0, false);
    t.recordRoleReject(1, true);
    t.recordRoleReject(2, false);
    expect(t.next()).toMatchObject({ kind: 'round-end', backoff: 'initial', roleRejects: 3 });
  });

  test('mixed role rejects and transport errors back off exponentially', () => {
    const t = new HostTracker(['a', 'b']);
    t.recordRoleReject(0, false);
    t.recordTransportError(1);
    expect(t.next()).toMatchObject({ kind: 'round-end', backoff: 'exponential' });
  });

  test('beginRound re-offers every host, failed ones last, and counts rounds', () => {
    const t = new HostTracker(['a', 'b', 'c']);
    t.recordTransportError(0);
    t.recordRoleReject(1, false);
    t.recordTransportError(2);
    t.beginRound();
    expect(t.round).toBe(2);
    const order: string[] = [];
    for (let p = t.next(); p.kind === 'host'; p = t.next()) {
      order.push(p.address);
      t.recordTransportError(p.index);
    }
    expect(order).toEqual(['a', 'c', 'b']);
  });

  test('PRIMARY_CATCHUP: a transient host is retried in the next round before failed peers', () => {
    const t = new HostTracker(['replica', 'catchup']);
    t.recordRoleReject(0, false);
    t.recordRoleReject(1, true);
    expect(t.next()).toMatchObject({ kind: 'round-end', backoff: 'initial' });
    t.beginRound();
    expect(t.next()).toMatchObject({ kind: 'host', address: 'catchup' });
  });

  test('startOutage also begins a fresh round', () => {
    const t = new HostTracker(['a']);
    t.recordTransportError(0);
    expect(t.isRoundExhausted()).toBe(true);
    t.startOutage();
    expect(t.isRoundExhausted()).toBe(false);
    expect(t.round).toBe(2);
  });
});

describe('argument checks', () => {
  test('an empty address list is rejected', () => {
    expect(() => new HostTracker([])).toThrow(QwpError);
  });

  test.each([-1, 2, 0.5, Number.NaN])('index %s is rejected with HostIndexError', (index) => {
    const t = new HostTracker(['a', 'b']);
    for (const call of [
      () => t.recordSuccess(index),
      () => t.recordTransportError(index),
      () => t.recordRoleReject(index, false),
      () => t.recordMidStreamFailure(index),
      () => t.state(index),
      () => t.zoneTier(index),
      () => t.address(index),
    ]) {
      expect(call).toThrow(HostIndexError);
    }
  });

  test('addresses are whatever the caller passes, returned as given', () => {
    const addrs = [{ host: 'h', port: 1 }] as const;
    const t = new HostTracker(addrs);
    const pick = t.next();
    expect(pick.kind === 'host' && pick.address).toBe(addrs[0]);
  });
});
