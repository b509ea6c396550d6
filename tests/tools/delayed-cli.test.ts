/**
 * Delayed delivery from the command line, against a broker process:
 * `runnel produce --deliver-after-ms / --deliver-at` write the
 * runnel.deliver.at header; `runnel consume --delayed-delivery wait` holds
 * such a record until its time (and prints nothing before), the default
 * prints it at once. Bounded by the CLI's own timeouts.
 */
import t from 'tap';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { linesOf, runnel as cli } from './run-cli.js';

let broker: BrokerProcess;
let b: string[];

t.before(async () => {
  broker = await startBrokerProcess();
  b = ['-b', broker.bootstrap];
});

t.teardown(async () => {
  await broker?.stop();
});

const deliverAt = (line: string): number => Number((JSON.parse(line) as { headers: [string, string][] }).headers.find(([k]) => k === 'runnel.deliver.at')![1]);

t.test('produce --deliver-after-ms / --deliver-at; consume --delayed-delivery wait holds until then, the default does not', async (t) => {
  t.equal((await cli(['topic', 'create', 'far', ...b])).code, 0);
  t.equal((await cli(['topic', 'create', 'soon', ...b])).code, 0);
  const both = await cli(['produce', 'far', '--deliver-at', '1', '--deliver-after-ms', '1', ...b], { input: 'x\n' });
  t.equal(both.code, 1, 'the two flags conflict');
  t.match(both.stderr, /cannot be used with/);

  const dayAhead = new Date(Date.now() + 86_400_000).toISOString();
  t.equal((await cli(['produce', 'far', '--deliver-at', dayAhead, ...b], { input: 'tomorrow\n' })).code, 0);
  const seen = await cli(['consume', 'far', '--from-beginning', '--max-messages', '1', '--format', 'json', ...b]);
  t.equal(seen.code, 0, seen.stderr);
  t.equal(deliverAt(linesOf(seen.stdout)[0]!), Date.parse(dayAhead), '--deliver-at (ISO) in the header; a plain consume prints it at once');
  const held = await cli(['consume', 'far', '--from-beginning', '--delayed-delivery', 'wait', '--timeout-ms', '1500', ...b]);
  t.equal(held.code, 0, held.stderr);
  t.equal(held.stdout, '', 'waiting: nothing before its time');

  const sent = await cli(['produce', 'soon', '--deliver-after-ms', '1500', ...b], { input: 'a\nb\n' });
  t.equal(sent.code, 0, sent.stderr);
  const waited = await cli(['consume', 'soon', '--from-beginning', '--delayed-delivery', 'wait', '--max-messages', '2', '--format', 'json', ...b]);
  const endedAt = Date.now();
  t.equal(waited.code, 0, waited.stderr);
  const lines = linesOf(waited.stdout);
  t.same(lines.map((l) => (JSON.parse(l) as { value: string }).value), ['a', 'b']);
  t.ok(endedAt >= deliverAt(lines[1]!), 'printed no earlier than due');
});
