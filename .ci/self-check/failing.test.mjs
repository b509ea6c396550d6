// CI's self-check runs this with real tap: one failing assertion must make the run red.
import t from 'tap';
t.ok(true, 'a passing assertion');
t.equal(1 + 1, 3, 'a planted failing assertion');
