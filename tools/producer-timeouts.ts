/**
 * `--delivery-timeout-ms` for the commands that produce (`produce`, `perf
 * produce`, `perf end-to-end`), and the SDK timeouts it implies. The SDK
 * refuses a delivery timeout shorter than linger + request timeout (a send
 * could be expired while its request was still allowed to wait), so a short
 * one given on the command line shortens the request timeout with it.
 */
import { Command } from 'commander';
import { ProducerDefaults, type ProducerOptions } from '../client/index.js';
import { CliError } from './cli-error.js';
import { intOption } from './options.js';

export function withDeliveryTimeout(command: Command): Command {
  return command.option(
    '--delivery-timeout-ms <ms>',
    'fail a record not acknowledged this long after it was read, whatever the broker does (exit 1)',
    intOption(1),
    ProducerDefaults.deliveryTimeoutMs,
  );
}

/** deliveryTimeoutMs, and a request timeout that fits inside it. */
export function producerTimeouts(deliveryTimeoutMs: number, lingerMs: number = ProducerDefaults.lingerMs): Pick<ProducerOptions, 'deliveryTimeoutMs' | 'requestTimeoutMs'> {
  const requestTimeoutMs = Math.min(ProducerDefaults.requestTimeoutMs, deliveryTimeoutMs - lingerMs);
  if (requestTimeoutMs < 1) throw new CliError(`--delivery-timeout-ms (${deliveryTimeoutMs}) must be more than --linger-ms (${lingerMs})`);
  return { deliveryTimeoutMs, requestTimeoutMs };
}
