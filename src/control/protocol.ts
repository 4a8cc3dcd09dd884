// The control socket protocol, version 1: one JSON object per line in each direction over a
// unix socket. These types are the contract between the daemon and `podbgp show ...`;
// `--json` prints the `result` objects below unchanged. No I/O here.

export const CONTROL_PROTOCOL_VERSION = 1;
export const DEFAULT_SOCKET_PATH = '/run/podbgp/podbgp.sock';

export type Command =
  | 'show-peers'
  | 'show-peer'
  | 'show-routes'
  | 'show-rib'
  | 'show-kernel'
  | 'show-node'
  | 'show-config'
  | 'peer-reset'
  | 'peer-disable'
  | 'peer-enable';

export interface Request {
  v: typeof CONTROL_PROTOCOL_VERSION;
  id: number;
  cmd: Command;
  args?: Record<string, unknown>;
}

export type Response =
  | { v: typeof CONTROL_PROTOCOL_VERSION; id: number; ok: true; result: unknown }
  | { v: typeof CONTROL_PROTOCOL_VERSION; id: number; ok: false; error: string };

export type PeerType = 'mesh' | 'rr-client' | 'route-reflector' | 'global' | 'node-specific';

/** One line of `show peers`. */
export interface PeerSummary {
  address: string;
  asn: number;
  type: PeerType;
  state: string;
  enabled: boolean;
  /** Epoch milliseconds when the current state was entered. */
  since: number;
  prefixes: { received: number; accepted: number; advertised: number };
  lastError: string | null;
}

/** `show peer ADDR`: the summary plus what was negotiated and counted. */
export interface PeerDetail extends PeerSummary {
  localAsn: number;
  localAddress: string | null;
  passive: boolean;
  routerId: string | null;
  holdTime: { configured: number; negotiated: number | null; keepalive: number | null };
  capabilities: {
    families: string[];
    fourOctetAs: boolean;
    routeRefresh: boolean;
    enhancedRouteRefresh: boolean;
    extendedMessage: boolean;
    addPath: Record<string, { send: boolean; receive: boolean }>;
    gracefulRestart: {
      restartTime: number;
      families: { family: string; forwarding: boolean }[];
    } | null;
    peerHostname: string | null;
  } | null;
  disabledCapabilities: number[];
  messages: { in: Record<string, number>; out: Record<string, number> };
  decodeErrors: Record<string, number>;
  flaps: number;
  endOfRib: { received: string[] };
  gracefulRestart: { stale: number; helperActive: boolean };
  lastNotification: {
    direction: 'sent' | 'received';
    code: number;
    subcode: number;
    name: string;
    message?: string;
    at: number;
  } | null;
}

export interface KernelState {
  status: 'installed' | 'not-installed' | 'pending';
  shape: 'direct' | 'ipip' | 'blackhole' | 'ecmp' | null;
  device: string | null;
  reason: string | null;
}

/** One path of `show routes`. */
export interface RouteRow {
  prefix: string;
  family: 'ipv4' | 'ipv6';
  pathId: number | null;
  /** `local` for our own blocks. */
  peer: string;
  nextHop: string | null;
  asPath: string;
  origin: 'igp' | 'egp' | 'incomplete' | null;
  localPref: number | null;
  med: number | null;
  communities: string[];
  largeCommunities: string[];
  /** Epoch milliseconds when the path was learned. */
  learnedAt: number;
  best: boolean;
  multipath: boolean;
  kernel: KernelState;
}

export interface RoutesResult {
  routes: RouteRow[];
}
