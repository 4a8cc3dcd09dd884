// Label selector matching and validation, as the Kubernetes API conventions define them:
// matchLabels and matchExpressions ANDed; NotIn and DoesNotExist match a missing key.
import t from 'tap';
import {
  isEmptySelector,
  matchesSelector,
  validateSelector,
  type LabelSelector,
} from '../../src/k8s/label-selector.js';

const labels = { rack: 'a', tier: 'edge', 'kubernetes.io/os': 'linux' };

const cases: Array<[string, LabelSelector, boolean]> = [
  ['empty selector selects everything', {}, true],
  ['matchLabels equal', { matchLabels: { rack: 'a' } }, true],
  ['matchLabels other value', { matchLabels: { rack: 'b' } }, false],
  ['matchLabels missing key', { matchLabels: { zone: 'z1' } }, false],
  ['matchLabels all must hold', { matchLabels: { rack: 'a', tier: 'core' } }, false],
  [
    'In with value present',
    { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b', 'a'] }] },
    true,
  ],
  [
    'In with other value',
    { matchExpressions: [{ key: 'rack', operator: 'In', values: ['b'] }] },
    false,
  ],
  [
    'In with key missing',
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
    false,
  ],
  [
    'NotIn with value listed',
    { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['a'] }] },
    false,
  ],
  [
    'NotIn with value not listed',
    { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['b'] }] },
    true,
  ],
  [
    'NotIn with key missing matches',
    { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
    true,
  ],
  ['Exists present', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
  ['Exists missing', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
  ['DoesNotExist missing', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
  [
    'DoesNotExist present',
    { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
    false,
  ],
  [
    'labels and expressions are ANDed',
    { matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
    false,
  ],
  [
    'every expression must hold',
    {
      matchExpressions: [
        { key: 'rack', operator: 'In', values: ['a'] },
        { key: 'kubernetes.io/os', operator: 'NotIn', values: ['windows'] },
        { key: 'tier', operator: 'Exists' },
      ],
    },
    true,
  ],
];

for (const [name, sel, want] of cases) {
  t.equal(matchesSelector(sel, labels), want, name);
}

t.test('validation', async (t) => {
  t.same(validateSelector({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }), []);
  t.match(validateSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }), [
    /matchExpressions\[0\]\.values must be non-empty for operator In/,
  ]);
  t.match(validateSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] }), [
    /non-empty for operator NotIn/,
  ]);
  t.match(
    validateSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
    [/must be empty for operator Exists/],
  );
  t.match(
    validateSelector({
      matchExpressions: [{ key: 'a', operator: 'Equals' as 'In', values: ['x'] }],
    }),
    [/operator "Equals" is not one of In, NotIn, Exists, DoesNotExist/],
  );
  t.equal(isEmptySelector({}), true);
  t.equal(isEmptySelector({ matchLabels: {}, matchExpressions: [] }), true);
  t.equal(isEmptySelector({ matchLabels: { a: 'b' } }), false);
});
