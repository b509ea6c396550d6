/**
 * Listener settings as the broker reads them: a listener named after no
 * security protocol is accepted when listener.security.protocol.map maps
 * it (a listener setting is parsed for syntax alone first, then again with
 * the map), refused with a clear reason when nothing maps it; and what a
 * broker registers (BrokerRegistration v1): every listener with its
 * protocol and advertised endpoint, as configured before binding (fixed
 * ports), as bound after, and nothing while a port is still to be picked.
 */
import t from 'tap';
import { brokerConfig } from '../../broker/config.js';
import { listenersToRegister } from '../../broker/security/endpoints.js';

t.test('a listener named after no protocol needs the map', async (t) => {
  const config = brokerConfig({ listeners: 'INTERNAL://127.0.0.1:19092,EXTERNAL://0.0.0.0:19093', 'listener.security.protocol.map': 'INTERNAL:SASL_PLAINTEXT,EXTERNAL:PLAINTEXT', 'inter.broker.listener.name': 'INTERNAL' });
  t.same(config.listeners.map((l) => [l.name, l.securityProtocol]), [['INTERNAL', 'SASL_PLAINTEXT'], ['EXTERNAL', 'PLAINTEXT']]);
  t.throws(() => brokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:19092,EXTERNAL://0.0.0.0:19093' }), /listener EXTERNAL has no security protocol/);
  t.throws(() => brokerConfig({ listeners: 'PLAINTEXT//127.0.0.1:19092' }), /is not NAME:\/\/HOST:PORT/, 'syntax is still checked on its own');
});

t.test('what a broker registers: every listener, configured or bound, with its protocol', async (t) => {
  const config = brokerConfig({ listeners: 'INTERNAL://127.0.0.1:19092,EXTERNAL://0.0.0.0:19093', 'listener.security.protocol.map': 'INTERNAL:SASL_PLAINTEXT,EXTERNAL:PLAINTEXT', 'inter.broker.listener.name': 'INTERNAL' });
  t.same(listenersToRegister(config.listeners, { host: '127.0.0.1', port: 19092 }, ''), [
    { name: 'INTERNAL', securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: 19092 },
    { name: 'EXTERNAL', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 19093 },
  ], 'before binding: fixed ports as configured, a wildcard advertised as 127.0.0.1');
  t.same((listenersToRegister(config.listeners, { host: '127.0.0.1', port: 19092 }, 'broker1.example') ?? []).map((l) => l.host), ['broker1.example', 'broker1.example'], 'advertised.host wins');
  const picked = brokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0' });
  t.equal(listenersToRegister(picked.listeners, { host: '127.0.0.1', port: 0 }, ''), undefined, 'port 0 not bound yet: nothing to register but host/port');
  const bound = new Map([['PLAINTEXT', { host: '127.0.0.1', port: 40001 }], ['SASL_PLAINTEXT', { host: '127.0.0.1', port: 40002 }]]);
  t.same((listenersToRegister(picked.listeners, { host: '127.0.0.1', port: 40001, listeners: bound }, '') ?? []).map((l) => `${l.name}=${l.port}`), ['PLAINTEXT=40001', 'SASL_PLAINTEXT=40002'], 'once bound: the ports picked');
});
