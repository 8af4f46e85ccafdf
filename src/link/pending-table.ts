/** Keys that may sit empty before a sweep is worth it (a NAC reuses a few hundred line addresses). */
const SWEEP_ABOVE = 4096;

/**
 * Requests in flight by key. A JS Map reallocates its hash table as it fills and empties, which
 * with one request at a time is an allocation on every add and every remove; so a removed key
 * stays in the map with no value, and the next request with that key (the NAC keys by line
 * address, which repeats) writes into the slot already there. Keys that never repeat (the
 * terminal role keys by STAN) are swept once the empty ones outnumber the rest, so the table
 * stays bounded by what is in flight.
 */
export class PendingTable<V> {
  private readonly slots = new Map<string, V | null>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  get(key: string): V | undefined {
    return this.slots.get(key) ?? undefined;
  }

  has(key: string): boolean {
    return (this.slots.get(key) ?? null) !== null;
  }

  set(key: string, value: V): void {
    if (!this.has(key)) this.live++;
    this.slots.set(key, value);
  }

  delete(key: string): void {
    if (!this.has(key)) return;
    this.live--;
    this.slots.set(key, null);
    const empty = this.slots.size - this.live;
    if (empty > SWEEP_ABOVE && empty > this.live) this.sweep();
  }

  values(): V[] {
    const out: V[] = [];
    for (const value of this.slots.values()) if (value !== null) out.push(value);
    return out;
  }

  /** Keys held, empty ones included (for tests of the sweep). */
  get slotCount(): number {
    return this.slots.size;
  }

  private sweep(): void {
    for (const [key, value] of this.slots) if (value === null) this.slots.delete(key);
  }
}
