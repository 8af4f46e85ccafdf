import assert from 'node:assert/strict';
import { ManualClock } from '../src/clock';
import { DeadlineQueue, IdleTimer, type DeadlineLinks } from '../src/lazy-timers';

interface Item extends DeadlineLinks {
  name: string;
}

const item = (name: string): Item => ({ name, expiresAt: 0, older: null, newer: null, queued: false });

describe('lazy timers', () => {
  describe('IdleTimer', () => {
    it('R-IDLE-1/R-IDLE-2: fires after the interval without a touch, then again an interval later', () => {
      const clock = new ManualClock();
      const fired: number[] = [];
      new IdleTimer(clock, 120_000, () => fired.push(clock.now()));
      clock.advance(119_999);
      assert.deepEqual(fired, []);
      clock.advance(1);
      clock.advance(120_000);
      assert.deepEqual(fired, [120_000, 240_000]);
    });

    it('R-IDLE-1/R-IDLE-2: every touch moves the deadline to an interval after it; one timer pending throughout', () => {
      const clock = new ManualClock();
      const fired: number[] = [];
      new IdleTimer(clock, 1000, () => fired.push(clock.now()));
      for (let t = 0; t < 10; t++) {
        clock.advance(300);
        assert.equal(clock.pending, 1, 'one timer, however often it fired');
      }
      assert.deepEqual(fired, [1000, 2000, 3000], 'never touched: once a second');

      const touched: number[] = [];
      const timer = new IdleTimer(clock, 1000, () => touched.push(clock.now()));
      const start = clock.now();
      for (let t = 0; t < 10; t++) {
        clock.advance(300);
        timer.touch();
      }
      assert.deepEqual(touched, [], 'touched every 300 ms, so never idle');
      clock.advance(1000);
      assert.deepEqual(touched, [start + 3000 + 1000]);
    });

    it('stop() cancels it for good, also from inside the callback; 0 ms never fires', () => {
      const clock = new ManualClock();
      let fired = 0;
      const timer: IdleTimer = new IdleTimer(clock, 100, () => {
        fired++;
        timer.stop();
      });
      clock.advance(1000);
      assert.equal(fired, 1);
      assert.equal(clock.pending, 0);
      new IdleTimer(clock, 0, () => fired++);
      clock.advance(10_000);
      assert.equal(fired, 1);
      assert.equal(clock.pending, 0);
    });
  });

  describe('DeadlineQueue', () => {
    it('each item expires its timeout after it was added, in order, unless removed first', () => {
      const clock = new ManualClock();
      const expired: string[] = [];
      const queue = new DeadlineQueue<Item>(clock, 1000, (i) => expired.push(`${i.name}@${clock.now()}`));
      const [a, b, c] = [item('a'), item('b'), item('c')];
      queue.add(a);
      clock.advance(100);
      queue.add(b);
      clock.advance(100);
      queue.add(c);
      queue.remove(a);
      queue.remove(a);
      assert.equal(queue.size, 2, 'removing twice is harmless');
      clock.advance(2000);
      assert.deepEqual(expired, ['b@1100', 'c@1200']);
      assert.equal(queue.size, 0);
      assert.equal(clock.pending, 0, 'no timer left once the queue is empty');
    });

    it('keeps one timer however many items it holds', () => {
      const clock = new ManualClock();
      const queue = new DeadlineQueue<Item>(clock, 1000, () => undefined);
      const items = Array.from({ length: 1000 }, (_, i) => item(String(i)));
      for (const i of items) queue.add(i);
      assert.equal(clock.pending, 1);
      // removed from the middle, the ends, in any order
      for (const i of [...items.filter((_, k) => k % 2 === 1), ...items.filter((_, k) => k % 2 === 0).reverse()]) queue.remove(i);
      assert.equal(queue.size, 0);
      clock.advance(1000);
      assert.equal(clock.pending, 0);
    });

    it('an item added while others expire gets its own full timeout, armed once', () => {
      const clock = new ManualClock();
      const expired: string[] = [];
      const queue: DeadlineQueue<Item> = new DeadlineQueue<Item>(clock, 500, (i) => {
        expired.push(`${i.name}@${clock.now()}`);
        if (i.name === 'first') queue.add(item('retry'));
      });
      queue.add(item('first'));
      clock.advance(500);
      assert.equal(clock.pending, 1);
      clock.advance(500);
      assert.deepEqual(expired, ['first@500', 'retry@1000']);
    });

    it('clear() forgets every item and its timer', () => {
      const clock = new ManualClock();
      const expired: string[] = [];
      const queue = new DeadlineQueue<Item>(clock, 100, (i) => expired.push(i.name));
      queue.add(item('1'));
      queue.add(item('2'));
      queue.clear();
      clock.advance(1000);
      assert.deepEqual(expired, []);
      assert.equal(clock.pending, 0);
    });
  });
});
