// Planted for CI's self-check: subtest "alpha" fails and "beta" passes. With
// TAP_GREP=beta in the environment tap would skip alpha and call the run
// green; CI must ignore such filters and report alpha's failure.
import t from 'tap';

t.test('alpha', async (t) => {
  t.equal(1 + 1, 3, 'planted failing assertion in alpha');
});
t.test('beta', async (t) => {
  t.pass('beta passes');
});
