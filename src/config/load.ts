// Loads the config: YAML text (or a file) plus the injected environment, validated by the
// schema and the cross-checks, into a fully defaulted PodbgpConfig or a list of every error,
// each with its path, value, what is allowed and its line. Never reads process.env.
import { readFileSync } from 'node:fs';
import {
  isMap,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import { z } from 'zod';
import { crossCheck } from './cross-checks.js';
import { applyEnv, type Env } from './env.js';
import { nearestName, pathToString, type ConfigError, type ConfigPath } from './errors.js';
import { configSchema, type PodbgpConfig } from './schema.js';

export type LoadResult =
  { ok: true; config: PodbgpConfig; warnings: string[] } | { ok: false; errors: ConfigError[] };

export type ConfigSource = { path: string } | { text: string; fileName?: string };

interface Locator {
  locate(path: ConfigPath, atKey: boolean): string | undefined;
}

function yamlLocator(doc: Document, counter: LineCounter, fileName: string): Locator {
  return {
    locate(path, atKey) {
      let node: unknown = doc.contents;
      let range: [number, number, number] | undefined;
      for (let i = 0; i < path.length; i++) {
        const key = path[i];
        const last = i === path.length - 1;
        if (isMap(node)) {
          const pair = node.items.find((p) => {
            const k = p.key as { value?: unknown } | null;
            return k !== null && typeof k === 'object' && String(k.value) === String(key);
          });
          if (!pair) break;
          const keyNode = pair.key as YamlNode;
          const valueNode = pair.value as YamlNode | null;
          range = (last && atKey) || !valueNode?.range ? (keyNode.range ?? range) : valueNode.range;
          node = valueNode;
        } else if (isSeq(node) && typeof key === 'number') {
          const item = node.items[key] as YamlNode | undefined;
          if (!item) break;
          range = item.range ?? range;
          node = item;
        } else {
          break;
        }
      }
      if (!range) range = (doc.contents as YamlNode | null)?.range ?? undefined;
      if (!range) return fileName;
      const pos = counter.linePos(range[0]);
      return `${fileName}:${pos.line}:${pos.col}`;
    },
  };
}

/** Follows a zod schema along a value path, through wrappers, to list an object's keys. */
function keysAt(schema: z.ZodType, path: ConfigPath): string[] {
  let s: unknown = schema;
  let i = 0;
  for (let guard = 0; guard < 200; guard++) {
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
        s = def.innerType;
        continue;
      case 'pipe': {
        const inDef = (def.in as { _zod: { def: { type: string } } })._zod.def;
        s = inDef.type === 'transform' ? def.out : def.in;
        continue;
      }
      case 'object':
        if (i === path.length) return Object.keys(def.shape as object);
        s = (def.shape as Record<string, unknown>)[String(path[i++])];
        continue;
      case 'array':
        i++;
        s = def.element;
        continue;
      case 'record':
        i++;
        s = def.valueType;
        continue;
      default:
        return [];
    }
  }
  return [];
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'must be a mapping (key: value)',
  array: 'must be a list',
  string: 'must be a string',
  number: 'must be a number',
  boolean: 'must be true or false',
};

function convertIssues(
  issues: readonly z.core.$ZodIssue[],
  sourceOf: (path: ConfigPath, atKey: boolean) => string | undefined,
): ConfigError[] {
  const out: ConfigError[] = [];
  const seen = new Set<string>();
  const push = (e: ConfigError): void => {
    const key = `${e.path}\u0000${e.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  };
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const input = (issue as { input?: unknown }).input;
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(configSchema, path);
      for (const key of issue.keys) {
        const near = nearestName(key, allowed);
        const full = [...path, key];
        push({
          path: pathToString(full),
          message: near
            ? `unknown key; did you mean "${near}"?`
            : `unknown key; allowed here: ${allowed.join(', ')}`,
          source: sourceOf(full, true),
        });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) {
      message = TYPE_WORDS[issue.expected] ?? `must be ${issue.expected}`;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues[0]?.message ?? 'invalid name';
      push({
        path: pathToString(path),
        value: input,
        message: `key ${inner}`,
        source: sourceOf(path, true),
      });
      continue;
    }
    if (issue.code === 'invalid_type' && input === undefined) {
      push({
        path: pathToString(path),
        message: `is required; ${message}`,
        source: sourceOf(path.slice(0, -1), false),
      });
      continue;
    }
    push({ path: pathToString(path), value: input, message, source: sourceOf(path, false) });
  }
  return out;
}

function warningsFor(c: PodbgpConfig): string[] {
  const w: string[] = [];
  if (c.pools.length === 0) {
    w.push(
      'no pools: the import filter accepts pod routes only inside a pool, so mesh routes will be rejected',
    );
  }
  if (!c.kubernetes.enabled && c.staticBlocks.length === 0) {
    w.push('kubernetes.enabled is false and staticBlocks is empty: this node announces no block');
  }
  if (!c.kubernetes.enabled && c.peers.length === 0) {
    w.push('kubernetes.enabled is false and no peers are configured: this node has no BGP session');
  }
  return w;
}

/** Environment errors first, then file errors in file order (stable otherwise). */
function sortByPosition(errors: ConfigError[]): ConfigError[] {
  const key = (e: ConfigError): [number, number] => {
    const m = /:(\d+):(\d+)$/.exec(e.source ?? '');
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  return errors
    .map((e, i) => ({ e, i, k: key(e) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.i - b.i)
    .map((x) => x.e);
}

/** Parses and validates config text with the environment's overrides applied. */
export function parseConfig(text: string, env: Env, fileName = 'config'): LoadResult {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = counter.linePos(e.pos[0]);
        return {
          path: '',
          message: `YAML: ${e.message.split('\n')[0]}`,
          source: `${fileName}:${pos.line}:${pos.col}`,
        };
      }),
    };
  }
  const js = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (js !== null && js !== undefined && (typeof js !== 'object' || Array.isArray(js))) {
    return {
      ok: false,
      errors: [
        {
          path: '',
          value: js,
          message: 'the config must be a mapping of keys such as node, pools, peers',
          source: fileName,
        },
      ],
    };
  }
  const locator = yamlLocator(doc, counter, fileName);
  const { raw, sources, errors: envErrors } = applyEnv((js ?? {}) as Record<string, unknown>, env);
  const sourceOf = (path: ConfigPath, atKey: boolean): string | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const name = sources.get(pathToString(path.slice(0, n)));
      if (name !== undefined) return `environment ${name}`;
    }
    return locator.locate(path, atKey);
  };
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const errors: ConfigError[] = [...envErrors];
  if (!parsed.success) errors.push(...convertIssues(parsed.error.issues, sourceOf));
  const seenPaths = new Set(errors.map((e) => e.path));
  for (const x of crossCheck(raw)) {
    const path = pathToString(x.path);
    if (seenPaths.has(path)) continue; // the schema already rejected this value
    errors.push({
      path,
      ...('value' in x ? { value: x.value } : {}),
      message: x.message,
      source: sourceOf(x.path, false),
    });
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors: sortByPosition(errors) };
  return { ok: true, config: parsed.data, warnings: warningsFor(parsed.data) };
}

/** `loadConfig({ path }, env)` reads a file; `loadConfig({ text }, env)` takes text. */
export function loadConfig(source: ConfigSource, env: Env): LoadResult {
  if ('path' in source) {
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch (err) {
      return {
        ok: false,
        errors: [
          {
            path: '',
            message: `cannot read the config file: ${(err as Error).message}`,
            source: source.path,
          },
        ],
      };
    }
    return parseConfig(text, env, source.path);
  }
  return parseConfig(source.text, env, source.fileName);
}
