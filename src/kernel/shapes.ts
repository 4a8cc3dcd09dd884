// Interns route shapes: a kernel route without its prefix (type, next hops, MTU), one shared
// object per distinct routeKey, named by a small id. Entries hold the id of what the kernel holds.
// Must not run commands or plan. No RFC.

import { routeKey, type KernelRoute } from './routes.js';

/** No route of ours in the kernel. */
export const SHAPE_NONE = 0;
/** A route with our tag of a shape we never install (unreachable, dev-only...). */
export const SHAPE_FOREIGN = 1;

export class ShapeTable {
  private routes: (KernelRoute | null)[] = [null, null];
  private keys: (string | null)[] = [null, null];
  private byKey = new Map<string, number>();

  /** The id of a route's shape (its prefix is ignored). */
  intern(route: KernelRoute | null): number {
    if (route === null) return SHAPE_FOREIGN;
    return this.internKeyed(routeKey(route), route);
  }

  /** As intern(), with the route's key already computed. */
  internKeyed(key: string, route: KernelRoute): number {
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.routes.length;
      this.routes.push(route.prefix === '' ? route : { ...route, prefix: '' });
      this.keys.push(key);
      this.byKey.set(key, id);
    }
    return id;
  }

  /** The shared prefix-less route of an id (null for NONE and FOREIGN). */
  route(id: number): KernelRoute | null {
    return this.routes[id] ?? null;
  }

  /** routeKey of the shape, null for NONE and FOREIGN. */
  key(id: number): string | null {
    return this.keys[id] ?? null;
  }

  get size(): number {
    return this.byKey.size;
  }
}
