import { once } from 'node:events';
import type { EventEmitter } from 'node:events';

/** Wait for a real I/O condition, checking after each turn of the event loop; fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The next `event` of `emitter` whose arguments satisfy `match`, within `ms`. */
export async function nextEvent<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  match: (...args: T) => boolean = () => true,
  ms = 3000,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    for (;;) {
      const args = (await once(emitter, event, { signal: controller.signal })) as T;
      if (match(...args)) return args;
    }
  } catch (e) {
    if (controller.signal.aborted) throw new Error(`timed out waiting for '${event}'`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
