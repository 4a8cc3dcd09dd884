// Keeps this node's podbgp.io/ipv4-address and podbgp.io/ipv6-address annotations equal to the
// daemon's autodetected addresses, with a JSON merge patch (RFC 7386) on metadata.annotations only.
// Never touches another key: labels, spec, status and foreign annotations are not in the patch.
import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { NodeObject } from './node-info.js';
import { backoffDelay, errorText, realTimers, type Timers } from './resilient-informer.js';
import { ANNOTATION_IPV4, ANNOTATION_IPV6, type BackoffOptions } from './types.js';

/** Sends one merge patch of annotations; `null` removes a key (RFC 7386 §2). */
export type AnnotationPatcher = (
  nodeName: string,
  annotations: Record<string, string | null>,
) => Promise<void>;

/** The real patcher: PATCH /api/v1/nodes/NAME with Content-Type application/merge-patch+json. */
export function mergePatchAnnotations(core: CoreV1Api): AnnotationPatcher {
  return async (name, annotations) => {
    await core.patchNode(
      { name, body: { metadata: { annotations } }, fieldManager: 'podbgp' },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
}

/** The annotation changes that bring `current` to the wanted addresses; empty when none. */
export function annotationPatch(
  current: Record<string, string> | undefined,
  addresses: { ipv4?: string; ipv6?: string },
): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  const cur = current ?? {};
  for (const [key, want] of [
    [ANNOTATION_IPV4, addresses.ipv4],
    [ANNOTATION_IPV6, addresses.ipv6],
  ] as const) {
    if (want !== undefined && cur[key] !== want) patch[key] = want;
    // The key is ours: a family this node no longer has is removed, so peers stop using it.
    if (want === undefined && key in cur) patch[key] = null;
  }
  return patch;
}

export interface NodeAnnotatorOptions {
  nodeName: string;
  addresses: { ipv4?: string; ipv6?: string };
  patch: AnnotationPatcher;
  log: Logger;
  backoff?: BackoffOptions;
  timers?: Timers;
}

export class NodeAnnotator {
  private addresses: { ipv4?: string; ipv6?: string };
  private latest: NodeObject | undefined;
  private inFlight = false;
  private again = false;
  private attempt = 0;
  private retryTimer: unknown;
  private stopped = false;
  private readonly timers: Timers;
  private warnedMissing = false;

  constructor(private readonly opts: NodeAnnotatorOptions) {
    this.addresses = { ...opts.addresses };
    this.timers = opts.timers ?? realTimers;
  }

  /** New autodetected addresses (for example after a config reload). */
  setAddresses(addresses: { ipv4?: string; ipv6?: string }): void {
    this.addresses = { ...addresses };
    this.run();
  }

  /** The latest copy of this node's Node object, or undefined when the cluster has none. */
  observe(node: NodeObject | undefined): void {
    this.latest = node;
    this.run();
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.retryTimer);
  }

  private run(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const node = this.latest;
    if (!node) {
      if (!this.warnedMissing) {
        this.opts.log.warn(
          { node: this.opts.nodeName },
          'no Node object with this name; annotations will be written when it appears',
        );
        this.warnedMissing = true;
      }
      return;
    }
    this.warnedMissing = false;
    const patch = annotationPatch(node.metadata?.annotations, this.addresses);
    if (Object.keys(patch).length === 0) return;
    this.inFlight = true;
    this.timers.clearTimeout(this.retryTimer);
    this.opts.patch(this.opts.nodeName, patch).then(
      () => {
        this.inFlight = false;
        this.attempt = 0;
        this.opts.log.info({ node: this.opts.nodeName, annotations: patch }, 'annotated node');
        // Record what we wrote so a stale cached copy does not cause a second identical patch.
        const ann: Record<string, string> = { ...(node.metadata?.annotations ?? {}) };
        for (const [k, v] of Object.entries(patch)) {
          if (v === null) delete ann[k];
          else ann[k] = v;
        }
        if (this.latest === node) {
          this.latest = { ...node, metadata: { ...node.metadata, annotations: ann } };
        }
        if (this.again) {
          this.again = false;
          this.run();
        }
      },
      (err: unknown) => {
        this.inFlight = false;
        this.again = false;
        if (this.stopped) return;
        const delay = backoffDelay(this.attempt++, this.opts.backoff);
        this.opts.log.warn(
          { node: this.opts.nodeName, err: errorText(err), retryInMs: delay },
          'could not annotate node; will retry',
        );
        this.retryTimer = this.timers.setTimeout(() => this.run(), delay);
      },
    );
  }
}
