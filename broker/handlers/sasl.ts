/**
 * SaslHandshake (17) and SaslAuthenticate (36): SCRAM on SASL listeners
 * (broker/security/). The handshake picks the mechanism; each
 * SaslAuthenticate carries one SCRAM message. The session changes in the
 * same synchronous step as the request is handled, so a request pipelined
 * right behind the last SaslAuthenticate already finds it authenticated.
 *
 * Every failure answers first and then closes the connection (Kafka's
 * behaviour): a wrong proof, an unknown mechanism, an out-of-order step. The
 * log line says why; the client hears only that authentication failed
 * (never whether the user exists).
 */
import { Errors } from '../../protocol/errors.js';
import { isScramMechanism, type ScramMechanism } from '../../client/security/scram.js';
import { ScramAuthenticationError, ScramServerExchange } from '../security/scram-server.js';
import type { ServingContext } from './broker-context.js';
import type { ApiHandler, RequestContext } from './handler.js';

/** A cryptographic source of bytes (the server nonce must be unpredictable). */
export type RandomBytes = (n: number) => Uint8Array;

/** Answers, then closes once the answer is written (so the client reads why). */
function closeAfterAnswer(ctx: RequestContext, reason: string): void {
  ctx.afterResponseWritten(() => ctx.closeConnection(reason));
}

export function saslHandshakeHandler(node: ServingContext, randomBytes: RandomBytes): ApiHandler<'SaslHandshake'> {
  const enabled: readonly ScramMechanism[] = node.config.saslMechanisms;
  return {
    api: 'SaslHandshake',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      const session = ctx.session;
      const mechanisms = [...enabled];
      if (!session.usesSasl || session.sasl.step !== 'handshake') {
        closeAfterAnswer(ctx, session.usesSasl ? 'SaslHandshake after the handshake was made' : `SaslHandshake on listener ${session.listener}, which uses ${session.securityProtocol}, not SASL`);
        return { errorCode: Errors.ILLEGAL_SASL_STATE.code, mechanisms };
      }
      const mechanism = request.mechanism.toUpperCase();
      if (!isScramMechanism(mechanism) || !enabled.includes(mechanism)) {
        closeAfterAnswer(ctx, `SaslHandshake for mechanism ${JSON.stringify(request.mechanism)}, which this listener does not enable (${mechanisms.join(', ')})`);
        return { errorCode: Errors.UNSUPPORTED_SASL_MECHANISM.code, mechanisms };
      }
      const lookup = (user: string) => node.replicas.image.scramCredentials?.get(user)?.get(mechanism);
      session.sasl = { step: 'authenticating', mechanism, exchange: new ScramServerExchange(mechanism, lookup, randomBytes) };
      return { errorCode: Errors.NONE.code, mechanisms };
    },
  };
}

export function saslAuthenticateHandler(): ApiHandler<'SaslAuthenticate'> {
  const failed = (code: number, message: string) => ({ errorCode: code, errorMessage: message, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 });
  return {
    api: 'SaslAuthenticate',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      const session = ctx.session;
      const state = session.sasl;
      if (state.step !== 'authenticating') {
        const why = state.step === 'handshake' ? 'SaslAuthenticate before SaslHandshake' : 'SaslAuthenticate after authentication completed';
        closeAfterAnswer(ctx, why);
        return failed(Errors.ILLEGAL_SASL_STATE.code, `${why}; reconnect and start with SaslHandshake`);
      }
      try {
        const step = state.exchange.step(Buffer.from(request.authBytes).toString('utf8'));
        if (step.done) session.authenticate(step.username);
        return { errorCode: Errors.NONE.code, errorMessage: null, authBytes: Buffer.from(step.reply, 'utf8'), sessionLifetimeMs: 0 };
      } catch (error) {
        if (!(error instanceof ScramAuthenticationError)) throw error;
        session.sasl = { step: 'done' };
        closeAfterAnswer(ctx, `SASL authentication failed (${state.mechanism}): ${error.message}`);
        // A malformed message is the client's bug and is said; a wrong credential is not told apart from an unknown user.
        const message = error.malformed ? `Authentication failed: ${error.message}` : `Authentication failed during authentication due to invalid credentials with SASL mechanism ${state.mechanism}`;
        return failed(Errors.SASL_AUTHENTICATION_FAILED.code, message);
      }
    },
  };
}
