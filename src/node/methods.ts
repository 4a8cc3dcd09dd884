// Parses Calico's IP autodetection method strings (IP_AUTODETECTION_METHOD syntax) into a
// typed union. Pure: no interface listing, no DNS, no sockets; config validation reuses it.
// Syntax as in Calico: first-found | interface=RE[,RE] | skip-interface=RE[,RE] |
// can-reach=IP|HOST | cidr=CIDR[,CIDR] | kubernetes-internal-ip.
import { ipFamily, parseCidr, type IpFamily, type ParsedCidr } from './addr.js';

export type AutodetectMethod =
  | { kind: 'first-found' }
  | { kind: 'interface'; patterns: string[] }
  | { kind: 'skip-interface'; patterns: string[] }
  | { kind: 'can-reach'; target: string; targetIsIp: boolean }
  | { kind: 'cidr'; cidrs: ParsedCidr[] }
  | { kind: 'kubernetes-internal-ip' };

export type ParseMethodResult =
  { ok: true; method: AutodetectMethod } | { ok: false; error: string };

export const METHOD_SYNTAX =
  'first-found, interface=REGEX[,REGEX...], skip-interface=REGEX[,REGEX...], ' +
  'can-reach=IP|HOSTNAME, cidr=CIDR[,CIDR...] or kubernetes-internal-ip';

// RFC 1123 §2.1 host names: dot-separated labels of letters, digits and hyphens.
const HOSTNAME_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Calico splits lists on commas with optional surrounding blanks. */
function splitList(text: string): string[] {
  return text.split(/\s*,\s*/).map((s) => s.trim());
}

function parsePatterns(kind: string, text: string): { patterns: string[] } | { error: string } {
  const patterns = splitList(text);
  if (patterns.some((p) => p === '')) {
    return { error: `${kind}= needs one or more comma-separated regular expressions` };
  }
  for (const p of patterns) {
    try {
      new RegExp(p);
    } catch (err) {
      return {
        error: `${kind}=: ${JSON.stringify(p)} is not a valid regular expression (${(err as Error).message})`,
      };
    }
  }
  return { patterns };
}

/**
 * Parses a method string. `family` (when given) rejects literal targets of the other family,
 * since IP_AUTODETECTION_METHOD is IPv4-only and IP6_AUTODETECTION_METHOD IPv6-only.
 */
export function parseAutodetectMethod(text: string, family?: IpFamily): ParseMethodResult {
  const s = text.trim();
  if (s === '' || s === 'first-found') return { ok: true, method: { kind: 'first-found' } };
  if (s === 'kubernetes-internal-ip')
    return { ok: true, method: { kind: 'kubernetes-internal-ip' } };
  const eq = s.indexOf('=');
  const key = eq < 0 ? s : s.slice(0, eq);
  const value = eq < 0 ? '' : s.slice(eq + 1).trim();
  switch (key) {
    case 'interface':
    case 'skip-interface': {
      const r = parsePatterns(key, value);
      if ('error' in r) return { ok: false, error: r.error };
      return { ok: true, method: { kind: key, patterns: r.patterns } };
    }
    case 'can-reach': {
      if (value === '')
        return { ok: false, error: 'can-reach= needs an IP address or a host name' };
      const fam = ipFamily(value);
      if (fam === null) {
        if (!HOSTNAME_RE.test(value)) {
          return {
            ok: false,
            error: `can-reach=: ${JSON.stringify(value)} is neither an IP address nor a host name`,
          };
        }
        return { ok: true, method: { kind: 'can-reach', target: value, targetIsIp: false } };
      }
      if (family !== undefined && fam !== family) {
        return {
          ok: false,
          error: `can-reach=${value} is an IPv${fam} address but this method detects the IPv${family} address`,
        };
      }
      return { ok: true, method: { kind: 'can-reach', target: value, targetIsIp: true } };
    }
    case 'cidr': {
      const cidrs: ParsedCidr[] = [];
      for (const c of splitList(value)) {
        const parsed = parseCidr(c);
        if (parsed === null) {
          return { ok: false, error: `cidr=: ${JSON.stringify(c)} is not a CIDR (ADDRESS/LENGTH)` };
        }
        if (family !== undefined && parsed.family !== family) {
          return {
            ok: false,
            error: `cidr=: ${c} is an IPv${parsed.family} CIDR but this method detects the IPv${family} address`,
          };
        }
        cidrs.push(parsed);
      }
      return { ok: true, method: { kind: 'cidr', cidrs } };
    }
    default:
      return {
        ok: false,
        error: `unknown autodetection method ${JSON.stringify(s)}; allowed: ${METHOD_SYNTAX}`,
      };
  }
}

export function formatAutodetectMethod(m: AutodetectMethod): string {
  switch (m.kind) {
    case 'first-found':
    case 'kubernetes-internal-ip':
      return m.kind;
    case 'interface':
    case 'skip-interface':
      return `${m.kind}=${m.patterns.join(',')}`;
    case 'can-reach':
      return `can-reach=${m.target}`;
    case 'cidr':
      return `cidr=${m.cidrs.map((c) => `${c.address.text}/${c.prefixLength}`).join(',')}`;
  }
}
