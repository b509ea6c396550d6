/**
 * Where a broker's InitProducerId answers get their ids: blocks handed out
 * by the controller (AllocateProducerIds, committed to the metadata log, so
 * no two brokers, and no broker before and after a restart, ever hand out the
 * same id). Ids are taken from the current block in order; when it runs out
 * the next is asked for, one request at a time, by every waiting caller
 * together. A block left unused at a restart is simply skipped (Kafka does
 * the same): ids are plentiful (2^53), reuse is what must never happen.
 */
import type { ProducerIdBlock, ProducerIdsRequest } from '../cluster/controller-channel.js';

export interface ProducerIdBlockSource {
  allocateProducerIds(req: ProducerIdsRequest): Promise<ProducerIdBlock>;
}

export class ProducerIdBlocks {
  readonly #source: ProducerIdBlockSource;
  readonly #who: () => ProducerIdsRequest;
  #next = 0;
  #end = 0;
  #asking: Promise<void> | null = null;

  /** `who`: this broker's id and current registration epoch (the controller refuses a stale one). */
  constructor(source: ProducerIdBlockSource, who: () => ProducerIdsRequest) {
    this.#source = source;
    this.#who = who;
  }

  /** A producer id no one else has had; rejects with the controller's error when no block can be had. */
  async nextId(): Promise<number> {
    while (this.#next >= this.#end) {
      this.#asking ??= this.#fetchBlock().finally(() => {
        this.#asking = null;
      });
      await this.#asking;
    }
    return this.#next++;
  }

  async #fetchBlock(): Promise<void> {
    const block = await this.#source.allocateProducerIds(this.#who());
    this.#next = block.firstProducerId;
    this.#end = block.firstProducerId + block.count;
  }
}
