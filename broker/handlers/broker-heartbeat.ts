/**
 * BrokerHeartbeat (controller side): keeps a broker's session and tells it
 * whether it is fenced; STALE_BROKER_EPOCH tells it to register again.
 * `wantShutDown` asks for a controlled shutdown (Controller.heartbeat).
 *
 * The connection a broker heartbeats on is watched: when it closes, the
 * controller shortens that broker's session (Controller.connectionLost), so
 * a killed broker's partitions change leader in seconds, not a session
 * timeout. Each connection is watched once per broker registration.
 */
import type { ControllerApis } from '../controller/controller.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

export function brokerHeartbeatHandler(controller: ControllerApis): ApiHandler<'BrokerHeartbeat'> {
  const watched = new WeakMap<AbortSignal, Set<string>>();
  const watch = (connection: AbortSignal, brokerId: number, brokerEpoch: number): void => {
    const key = `${brokerId}:${brokerEpoch}`;
    let keys = watched.get(connection);
    if (keys === undefined) watched.set(connection, (keys = new Set()));
    if (keys.has(key)) return;
    keys.add(key);
    connection.addEventListener('abort', () => controller.connectionLost(brokerId, brokerEpoch), { once: true });
  };
  return {
    api: 'BrokerHeartbeat',
    versions: { min: 0, max: 1 },
    handle: async (ctx, request) => {
      try {
        const answer = await controller.heartbeat(request);
        if (!answer.fenced && !ctx.signal.aborted) watch(ctx.signal, request.brokerId, request.brokerEpoch);
        return { errorCode: NO_ERROR.code, errorMessage: null, ...answer };
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'BrokerHeartbeat', brokerId: request.brokerId });
        return { errorCode: wire.code, errorMessage: wire.message, fenced: true, shouldShutDown: false };
      }
    },
  };
}
