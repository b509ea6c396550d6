/**
 * The `controller` setting's etcd form, and what the etcd tests do where
 * etcd is missing (fail, naming the package: never skip).
 */
import t from 'tap';
import { brokerConfig } from '../../../broker/config.js';
import { isEtcdAddress, parseEtcdAddress } from '../../../broker/metadata/etcd-address.js';
import { etcdBinary } from '../../support/etcd.js';

t.test('etcd:// and etcds:// with one or more HOST:PORT', async (t) => {
  t.same(parseEtcdAddress('etcd://127.0.0.1:2379'), { hosts: ['http://127.0.0.1:2379'], tls: false });
  t.same(parseEtcdAddress(' etcds://a.example:2379,b.example:2379,[::1]:2379 '), { hosts: ['https://a.example:2379', 'https://b.example:2379', 'https://[::1]:2379'], tls: true });
  t.ok(isEtcdAddress('etcd://x:1'));
  t.notOk(isEtcdAddress('127.0.0.1:9093'), 'a controller process\'s address is not etcd');
  t.throws(() => parseEtcdAddress('etcd://127.0.0.1'), /"127\.0\.0\.1" in "etcd:\/\/127\.0\.0\.1" is not HOST:PORT/);
  t.throws(() => parseEtcdAddress('etcd://a:1,b:99999'), /"b:99999"/);
  t.throws(() => parseEtcdAddress('http://a:1'), /is not etcd:\/\/HOST:PORT/);
});

t.test('the settings take an etcd controller, its lease and prefix, and refuse bad ones by name', async (t) => {
  const config = brokerConfig({ 'controller.address': 'etcd://127.0.0.1:2379', 'controller.lease.ms': 3000, 'controller.etcd.prefix': '/runnel/orders/' });
  t.equal(config.controllerAddress, 'etcd://127.0.0.1:2379');
  t.equal(config.controllerLeaseMs, 3000);
  t.same(config.etcd, { prefix: '/runnel/orders/', caFile: '', certFile: '', keyFile: '' });
  t.equal(brokerConfig().controllerLeaseMs, 6000, 'a 6 s lease by default, below the 9 s broker session');
  t.throws(() => brokerConfig({ 'controller.address': 'etcd://nowhere' }), /controller\.address/);
  t.throws(() => brokerConfig({ 'controller.etcd.prefix': 'runnel' }), /must start and end with \//);
  t.throws(() => brokerConfig({ 'controller.lease.ms': 10 }), /controller\.lease\.ms/);
});

t.test('without an etcd binary the etcd tests fail saying what to install', async (t) => {
  t.throws(() => etcdBinary({ PATH: '/nonexistent' }), /install etcd-server: apt-get install etcd-server/);
  t.match(etcdBinary(), /etcd$/, 'here it is installed');
});
