// Typo suggestions and error formatting.
import t from 'tap';
import {
  editDistance,
  formatConfigError,
  nearestName,
  pathToString,
} from '../../src/config/errors.js';

t.test('edit distance', async (t) => {
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('holdTime', 'holdTime'), 0);
  t.equal(editDistance('flaw', 'lawn'), 2);
});

t.test('nearest names', async (t) => {
  const keys = [
    'address',
    'asn',
    'holdTime',
    'passive',
    'port',
    'policy',
    'localAddress',
    'routeReflectorClient',
  ];
  t.equal(nearestName('holdtime', keys), 'holdTime', 'case only');
  t.equal(nearestName('hold_time', keys), 'holdTime', 'separators ignored');
  t.equal(nearestName('adress', keys), 'address');
  t.equal(nearestName('pasive', keys), 'passive');
  t.equal(nearestName('routeReflector', keys), 'routeReflectorClient', 'a unique prefix');
  t.equal(nearestName('timers', keys), null, 'nothing close');
});

t.test('paths and lines', async (t) => {
  t.equal(pathToString(['peers', 1, 'holdTime']), 'peers[1].holdTime');
  t.equal(pathToString(['prefixLists', 'bad name', 0]), 'prefixLists["bad name"][0]');
  t.equal(pathToString(['maxPrefixes', 'ipv4-unicast']), 'maxPrefixes.ipv4-unicast');
  t.equal(
    formatConfigError({
      path: 'peers[0].holdTime',
      value: 2,
      message: 'must be 0 or 3..65535',
      source: 'f.yaml:3:5',
    }),
    'f.yaml:3:5: peers[0].holdTime: got 2; must be 0 or 3..65535',
  );
  t.equal(formatConfigError({ path: '', message: 'YAML: bad' }), '(top level): YAML: bad');
});
