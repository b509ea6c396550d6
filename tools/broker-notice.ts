/**
 * What a long-running command says on stderr while a broker is away: one
 * line when it becomes unreachable, a reminder every `remindMs` while it
 * stays so (not a line per retry: the SDK retries several times a second),
 * and one when it answers again. The SDK keeps retrying meanwhile; these
 * lines only make sure a person is not left looking at silence.
 */
import type { BrokerReachableEvent, BrokerUnreachableEvent, ClientEventSource } from '../client/index.js';

const REMIND_MS = 30_000;

export interface BrokerNotice {
  /** The outages going on now, as text for an error message ("broker 127.0.0.1:9092 unreachable for 12 s (ECONNREFUSED)"), or ''. */
  describe(): string;
  dispose(): void;
}

/**
 * Reports outages of the brokers `source` talks to. `meanwhile` says what
 * happens while waiting ("still trying; Ctrl-C to stop").
 */
export function reportBrokerOutages(source: ClientEventSource, meanwhile: string, write: (line: string) => void = (line) => process.stderr.write(`${line}\n`), remindMs = REMIND_MS): BrokerNotice {
  const down = new Map<string, { event: BrokerUnreachableEvent; reminder: NodeJS.Timeout }>();
  const onUnreachable = (event: BrokerUnreachableEvent): void => {
    if (down.has(event.broker)) return;
    write(`warning: cannot reach the broker at ${event.broker} (${event.reason}); ${meanwhile}`);
    const reminder = setInterval(() => {
      write(`warning: still cannot reach the broker at ${event.broker} after ${seconds(Date.now() - event.sinceMs)} (${event.reason}); ${meanwhile}`);
    }, remindMs);
    // A reminder never keeps the command alive by itself.
    reminder.unref();
    down.set(event.broker, { event, reminder });
  };
  const onReachable = (event: BrokerReachableEvent): void => {
    const outage = down.get(event.broker);
    if (outage === undefined) return;
    clearInterval(outage.reminder);
    down.delete(event.broker);
    write(`the broker at ${event.broker} is reachable again after ${seconds(event.unreachableMs)}`);
  };
  source.on('broker-unreachable', onUnreachable).on('broker-reachable', onReachable);
  return {
    describe: () => [...down.values()].map(({ event }) => `the broker at ${event.broker} has been unreachable for ${seconds(Date.now() - event.sinceMs)} (${event.reason})`).join('; '),
    dispose() {
      source.off('broker-unreachable', onUnreachable).off('broker-reachable', onReachable);
      for (const { reminder } of down.values()) clearInterval(reminder);
      down.clear();
    },
  };
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))} s`;
}
