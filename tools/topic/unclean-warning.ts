/**
 * What `runnel topic create` and `topic alter-config` say on stderr when a
 * command turns `unclean.leader.election.enable` on: the setting trades
 * acknowledged records for availability, and the person setting it should
 * read that where they type, not only in the docs.
 */
export const UNCLEAN_SETTING = 'unclean.leader.election.enable';

/** The warning for `topic`, or null when `config` does not turn unclean election on. */
export function uncleanElectionWarning(topic: string, config: Readonly<Record<string, string | null>>): string | null {
  if (config[UNCLEAN_SETTING]?.trim().toLowerCase() !== 'true') return null;
  return `warning: ${UNCLEAN_SETTING}=true on topic ${topic}: when no in-sync replica of a partition is alive, a replica outside the ISR may become its leader. Records it lacks are lost, even ones acknowledged with acks=all, and their offsets are given to new records (consumers may see an offset twice with different records). Leave it false to wait for an in-sync replica instead.`;
}
