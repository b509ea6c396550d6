/**
 * A server-side assignor (KIP-848): from the members' subscriptions (topic
 * names, already resolved from patterns) and the topics' partition counts,
 * the target assignment: every partition of a subscribed topic to exactly
 * one member subscribed to its topic. The coordinator hands the target out
 * one heartbeat at a time (reconcile.ts); the assignor only decides where
 * partitions should end up.
 */
import { rangeAssignor } from './range-assignor.js';
import { uniformAssignor } from './uniform-assignor.js';

export interface AssignorMember {
  readonly memberId: string;
  readonly topics: ReadonlySet<string>;
  /** Its share of the previous target assignment (what a sticky assignor keeps where it can). */
  readonly previous: ReadonlySet<string>;
}

export interface Assignor {
  readonly name: string;
  /** Member id -> its partitions ("topic:partition"); every member gets an entry. Deterministic for the same input. */
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, number>): Map<string, Set<string>>;
}

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([uniformAssignor, rangeAssignor].map((a) => [a.name, a]));
