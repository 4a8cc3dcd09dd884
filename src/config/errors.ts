// Config error records and their human form: field path, bad value, what is allowed, and where
// the value came from (file line or environment variable). Also the "did you mean" helper.
// Must not validate anything itself; the schema and cross-checks produce the errors.

export type ConfigPath = readonly (string | number)[];

export interface ConfigError {
  /** Field path, e.g. `peers[1].holdTime`; empty for the file as a whole. */
  path: string;
  /** The offending value, when there is one. */
  value?: unknown;
  /** What is wrong or what is allowed. */
  message: string;
  /** Where the value came from: `FILE:LINE:COL` or `environment AS`. */
  source?: string;
}

/** `['peers', 1, 'holdTime']` -> `peers[1].holdTime`. Keys that are not identifiers are quoted. */
export function pathToString(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** Levenshtein distance with unit costs (insert, delete, substitute). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/**
 * The valid name closest to `word`, if it is close enough to be a plausible typo. Case is
 * ignored first (routerID -> routerId), then a unique name that starts with the word
 * (ipv4 -> ipv4-unicast); otherwise at most max(2, length/3) edits.
 */
export function nearestName(word: string, candidates: readonly string[]): string | null {
  const lower = word.toLowerCase().replace(/[_-]/g, '');
  const norm = (c: string): string => c.toLowerCase().replace(/[_-]/g, '');
  const prefixed = candidates.filter((c) => lower.length >= 3 && norm(c).startsWith(lower));
  if (prefixed.length === 1 && norm(prefixed[0]) !== lower) return prefixed[0];
  let best: string | null = null;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase().replace(/[_-]/g, ''));
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best !== null && bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per error: `SOURCE: PATH: got VALUE; MESSAGE`. */
export function formatConfigError(e: ConfigError): string {
  const where = e.source ? `${e.source}: ` : '';
  const path = e.path === '' ? '(top level)' : e.path;
  const got = 'value' in e ? `got ${describeValue(e.value)}; ` : '';
  return `${where}${path}: ${got}${e.message}`;
}

export function formatConfigErrors(errors: readonly ConfigError[], title?: string): string {
  const head = title ?? `${errors.length} config error${errors.length === 1 ? '' : 's'}:`;
  return [head, ...errors.map((e) => `  - ${formatConfigError(e)}`)].join('\n');
}
