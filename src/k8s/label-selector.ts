// Kubernetes label selectors (metav1.LabelSelector): validation and matching against a label map.
// Pure functions only; no API access. Semantics follow the Kubernetes API conventions:
// matchLabels and every matchExpressions entry are ANDed.

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/**
 * Problems with a selector, one string per problem; empty when valid.
 * In/NotIn need a non-empty values list; Exists/DoesNotExist must have none.
 */
export function validateSelector(sel: LabelSelector): string[] {
  const errors: string[] = [];
  (sel.matchExpressions ?? []).forEach((req, i) => {
    const at = `matchExpressions[${i}]`;
    if (typeof req.key !== 'string' || req.key === '') errors.push(`${at}.key must be non-empty`);
    if (!OPERATORS.includes(req.operator)) {
      errors.push(
        `${at}.operator ${JSON.stringify(req.operator)} is not one of ${OPERATORS.join(', ')}`,
      );
      return;
    }
    const n = req.values?.length ?? 0;
    if ((req.operator === 'In' || req.operator === 'NotIn') && n === 0) {
      errors.push(`${at}.values must be non-empty for operator ${req.operator}`);
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && n !== 0) {
      errors.push(`${at}.values must be empty for operator ${req.operator}`);
    }
  });
  return errors;
}

/** True when the selector has no requirement at all (it then selects everything). */
export function isEmptySelector(sel: LabelSelector): boolean {
  return (
    Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0
  );
}

/** Does `labels` satisfy the selector? The selector must have passed validateSelector. */
export function matchesSelector(sel: LabelSelector, labels: Record<string, string>): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (!has(k) || labels[k] !== v) return false;
  }
  for (const req of sel.matchExpressions ?? []) {
    const present = has(req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!present || !values.includes(labels[req.key])) return false;
        break;
      case 'NotIn':
        // A missing key satisfies NotIn (Kubernetes labels.Selector semantics).
        if (present && values.includes(labels[req.key])) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}
