/**
 * Listener settings as the broker reads them: a listener named after no
 * security protocol is accepted when listener.security.protocol.map maps
 * it (a listener setting is parsed for syntax alone first, then again with
 * the map), refused with a clear reason when nothing maps it; and what a
 * broker registers (BrokerRegistration v1): every listener with its
 * protocol and advertised endpoint, as configured before binding (fixed
 * ports), as bound after, and nothing while a port is still to be picked;
 * advertised.listeners: checked, and what it changes.
 */
import t from 'tap';
import { brokerConfig } from '../../broker/config.js';
import { listenersToRegister, localEndpoints, noteBound, NOT_ADVERTISED } from '../../broker/security/endpoints.js';

t.test('a listener named after no protocol needs the map', async (t) => {
  const config = brokerConfig({ listeners: 'INTERNAL://127.0.0.1:19092,EXTERNAL://0.0.0.0:19093', 'listener.security.protocol.map': 'INTERNAL:SASL_PLAINTEXT,EXTERNAL:PLAINTEXT', 'inter.broker.listener.name': 'INTERNAL' });
  t.same(config.listeners.map((l) => [l.name, l.securityProtocol]), [['INTERNAL', 'SASL_PLAINTEXT'], ['EXTERNAL', 'PLAINTEXT']]);
  t.throws(() => brokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:19092,EXTERNAL://0.0.0.0:19093' }), /listener EXTERNAL has no security protocol/);
  t.throws(() => brokerConfig({ listeners: 'PLAINTEXT//127.0.0.1:19092' }), /is not NAME:\/\/HOST:PORT/, 'syntax is still checked on its own');
});

t.test('what a broker registers: every listener, configured or bound, with its protocol', async (t) => {
  const config = brokerConfig({ listeners: 'INTERNAL://127.0.0.1:19092,EXTERNAL://0.0.0.0:19093', 'listener.security.protocol.map': 'INTERNAL:SASL_PLAINTEXT,EXTERNAL:PLAINTEXT', 'inter.broker.listener.name': 'INTERNAL' });
  t.same(listenersToRegister(config.listeners, { host: '127.0.0.1', port: 19092 }, NOT_ADVERTISED), [
    { name: 'INTERNAL', securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: 19092 },
    { name: 'EXTERNAL', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 19093 },
  ], 'before binding: fixed ports as configured, a wildcard advertised as 127.0.0.1');
  t.same((listenersToRegister(config.listeners, { host: '127.0.0.1', port: 19092 }, { host: 'broker1.example', listeners: new Map() }) ?? []).map((l) => l.host), ['broker1.example', 'broker1.example'], 'advertised.host wins');
  const picked = brokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0' });
  t.equal(listenersToRegister(picked.listeners, { host: '127.0.0.1', port: 0 }, NOT_ADVERTISED), undefined, 'port 0 not bound yet: nothing to register but host/port');
  const bound = new Map([['PLAINTEXT', { host: '127.0.0.1', port: 40001 }], ['SASL_PLAINTEXT', { host: '127.0.0.1', port: 40002 }]]);
  t.same((listenersToRegister(picked.listeners, { host: '127.0.0.1', port: 40001, listeners: bound }, NOT_ADVERTISED) ?? []).map((l) => `${l.name}=${l.port}`), ['PLAINTEXT=40001', 'SASL_PLAINTEXT=40002'], 'once bound: the ports picked');
});

t.test('advertised.listeners: parsed and checked; the named listeners are told (and registered) at their advertised endpoints', async (t) => {
  const settings = { listeners: 'INTERNAL://0.0.0.0:0,EXTERNAL://0.0.0.0:0', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT', 'inter.broker.listener.name': 'INTERNAL' };
  const config = brokerConfig({ ...settings, 'advertised.listeners': 'external://broker1.example.com:19093, INTERNAL://[fd00::1]:9092', 'advertised.host': 'ignored.example' });
  t.same([...config.advertising.listeners], [['EXTERNAL', { host: 'broker1.example.com', port: 19093 }], ['INTERNAL', { host: 'fd00::1', port: 9092 }]], 'names upper-cased, IPv6 brackets dropped');
  t.equal(config.advertisedHost, 'fd00::1', 'the inter-broker listener\'s advertised host is the one the broker registers');
  const local = localEndpoints(config.advertising, config.listeners, config.interBrokerListenerName);
  t.same(local, { host: 'fd00::1', port: 9092 }, 'known before binding: the broker may register before it listens');
  t.same(listenersToRegister(config.listeners, local, config.advertising), [
    { name: 'INTERNAL', securityProtocol: 'PLAINTEXT', host: 'fd00::1', port: 9092 },
    { name: 'EXTERNAL', securityProtocol: 'SASL_PLAINTEXT', host: 'broker1.example.com', port: 19093 },
  ], 'ports 0 still to be bound, but advertised: registered as advertised');
  noteBound(local, config.advertising, [{ name: 'INTERNAL', host: '0.0.0.0', port: 40001 }, { name: 'EXTERNAL', host: '0.0.0.0', port: 40002 }], 'INTERNAL');
  t.same(local, { host: 'fd00::1', port: 9092, listeners: new Map([['INTERNAL', { host: 'fd00::1', port: 9092 }], ['EXTERNAL', { host: 'broker1.example.com', port: 19093 }]]) }, 'bound: still told as advertised, never the bound port');

  const partly = brokerConfig({ ...settings, 'advertised.listeners': 'EXTERNAL://lb.example.com:443', 'advertised.host': 'node1.internal' });
  const partlyLocal = localEndpoints(partly.advertising, partly.listeners, partly.interBrokerListenerName);
  noteBound(partlyLocal, partly.advertising, [{ name: 'INTERNAL', host: '0.0.0.0', port: 40001 }, { name: 'EXTERNAL', host: '0.0.0.0', port: 40002 }], 'INTERNAL');
  t.same([...(partlyLocal.listeners ?? [])], [['INTERNAL', { host: 'node1.internal', port: 40001 }], ['EXTERNAL', { host: 'lb.example.com', port: 443 }]], 'a listener it does not name: advertised.host with its bound port');
  t.same([partlyLocal.host, partlyLocal.port], ['node1.internal', 40001]);

  t.throws(() => brokerConfig({ ...settings, 'advertised.listeners': 'OTHER://h:1' }), /advertised.listeners names OTHER, which is none of the listeners \(INTERNAL, EXTERNAL\)/);
  t.throws(() => brokerConfig({ ...settings, 'advertised.listeners': 'EXTERNAL://0.0.0.0:9093' }), /not the wildcard 0.0.0.0/);
  t.throws(() => brokerConfig({ ...settings, 'advertised.listeners': 'EXTERNAL://:9093' }), /not empty/);
  t.throws(() => brokerConfig({ ...settings, 'advertised.listeners': 'EXTERNAL://h:0' }), /not 0/);
  t.throws(() => brokerConfig({ ...settings, 'advertised.listeners': 'EXTERNAL://a:1,external://b:2' }), /EXTERNAL is advertised twice/);
  t.throws(() => brokerConfig({ ...settings, 'advertised.listeners': 'EXTERNAL//h:1' }), /is not NAME:\/\/HOST:PORT/);
});
