/**
 * The circuit breaker's state machine on a ManualClock: it opens after the
 * threshold of failures in a row (not before, and a success in between
 * starts the count over), fails fast while open, lets exactly one probe
 * through once the cool-down is over, closes on the probe's success, and
 * reopens on its failure with twice the cool-down, capped. Randomness fixed
 * at 0.5, so the jitter is zero and every time below is exact.
 */
import t from 'tap';
import { ManualClock } from '../../../broker/world/clock.js';
import { CircuitBreaker, type BreakerSettings } from '../../../client/resilience/circuit-breaker.js';

const SETTINGS: BreakerSettings = { failureThreshold: 3, openMs: 1000, maxOpenMs: 3000 };

function breakerOn(clock: ManualClock, settings = SETTINGS, random = () => 0.5): { breaker: CircuitBreaker; log: string[] } {
  const log: string[] = [];
  const breaker = new CircuitBreaker(settings, clock, random, {
    opened: ({ failures, cooldownMs, reopened }) => log.push(`open ${failures} ${cooldownMs}${reopened ? ' again' : ''} @${clock.nowMs() - START}`),
    halfOpened: () => log.push(`half-open @${clock.nowMs() - START}`),
    closed: ({ openForMs }) => log.push(`closed after ${openForMs} @${clock.nowMs() - START}`),
  });
  return { breaker, log };
}

const START = 1_700_000_000_000;
const boom = new Error('ECONNREFUSED');

t.test('opens after failureThreshold failures in a row, and only then', async (t) => {
  const clock = new ManualClock(START);
  const { breaker, log } = breakerOn(clock);
  breaker.failure(boom);
  breaker.failure(boom);
  breaker.success();
  breaker.failure(boom);
  breaker.failure(boom);
  t.equal(breaker.state, 'closed', 'a success in between started the count over');
  t.same(breaker.admit(), { admitted: true, probe: false });
  breaker.failure(boom);
  t.equal(breaker.state, 'open');
  t.same(log, ['open 3 1000 @0']);
  const refused = breaker.admit();
  t.same(refused, { admitted: false, retryInMs: 1000, lastError: boom }, 'fails fast, saying when the probe goes and the last failure');
  t.equal(breaker.rejected, 1);
  t.equal(breaker.available, false);
});

t.test('one probe after the cool-down; its success closes the breaker', async (t) => {
  const clock = new ManualClock(START);
  const { breaker, log } = breakerOn(clock);
  for (let i = 0; i < 3; i++) breaker.failure(boom);
  clock.advance(999);
  t.equal(breaker.state, 'open', 'still open 1 ms before the cool-down ends');
  clock.advance(1);
  t.equal(breaker.state, 'half-open');
  const probe = breaker.admit();
  t.same(probe, { admitted: true, probe: true }, 'the first request is the probe');
  t.match(breaker.admit(), { admitted: false, retryInMs: 0 }, 'a second request while the probe is out fails fast');
  clock.advance(20);
  breaker.success(true);
  t.equal(breaker.state, 'closed');
  t.same(breaker.admit(), { admitted: true, probe: false });
  t.same(log, ['open 3 1000 @0', 'half-open @1000', 'closed after 1020 @1020']);
});

t.test('a failed probe reopens with twice the cool-down, capped at maxOpenMs; a success resets it', async (t) => {
  const clock = new ManualClock(START);
  const { breaker, log } = breakerOn(clock);
  for (let i = 0; i < 3; i++) breaker.failure(boom);
  for (const expected of [2000, 3000, 3000]) {
    clock.advance(clock.nextDueMs()! - clock.nowMs());
    t.equal(breaker.state, 'half-open');
    const probe = breaker.admit();
    t.ok(probe.admitted);
    breaker.failure(boom, true);
    t.equal(breaker.state, 'open');
    t.match(log.at(-1), new RegExp(`^open \\d+ ${expected} again`), `reopened for ${expected} ms`);
  }
  clock.advance(3000);
  breaker.admit();
  breaker.success(true);
  t.equal(breaker.state, 'closed');
  for (let i = 0; i < 3; i++) breaker.failure(boom);
  t.match(log.at(-1), /^open 3 1000 @/, 'after closing, the next opening starts at openMs again');
});

t.test('a probe abandoned by close frees the probe slot; a closed breaker announces nothing', async (t) => {
  const clock = new ManualClock(START);
  const { breaker, log } = breakerOn(clock);
  for (let i = 0; i < 3; i++) breaker.failure(boom);
  clock.advance(1000);
  t.ok(breaker.admit().admitted);
  breaker.abandon(true);
  t.same(breaker.admit(), { admitted: true, probe: true }, 'the next request is the probe');
  breaker.close();
  breaker.failure(boom, true);
  clock.advance(10_000);
  t.same(log, ['open 3 1000 @0', 'half-open @1000'], 'nothing after close');
});

t.test('cool-downs carry up to 20 % jitter from the injected randomness', async (t) => {
  for (const [random, expected] of [[0, 800], [0.999_999, 1200]] as const) {
    const clock = new ManualClock(START);
    const { breaker, log } = breakerOn(clock, SETTINGS, () => random);
    for (let i = 0; i < 3; i++) breaker.failure(boom);
    t.same(log, [`open 3 ${expected} @0`]);
  }
});
