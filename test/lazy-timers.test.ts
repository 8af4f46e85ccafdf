import assert from 'node:assert/strict';
import { ManualClock } from '../src/clock';
import { DeadlineQueue, IdleTimer } from '../src/lazy-timers';

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
    it('R-CONN-5: each item expires its timeout after it was added, in order, unless removed first', () => {
      const clock = new ManualClock();
      const expired: string[] = [];
      const queue = new DeadlineQueue<string>(clock, 1000, (item) => expired.push(`${item}@${clock.now()}`));
      queue.add('a');
      clock.advance(100);
      queue.add('b');
      clock.advance(100);
      queue.add('c');
      queue.remove('a');
      assert.equal(queue.size, 2);
      clock.advance(2000);
      assert.deepEqual(expired, ['b@1100', 'c@1200']);
      assert.equal(queue.size, 0);
      assert.equal(clock.pending, 0, 'no timer left once the queue is empty');
    });

    it('keeps one timer however many items it holds', () => {
      const clock = new ManualClock();
      const queue = new DeadlineQueue<number>(clock, 1000, () => undefined);
      for (let i = 0; i < 1000; i++) queue.add(i);
      assert.equal(clock.pending, 1);
      for (let i = 0; i < 1000; i++) queue.remove(i);
      clock.advance(1000);
      assert.equal(clock.pending, 0);
    });

    it('an item added while others expire gets its own full timeout, armed once', () => {
      const clock = new ManualClock();
      const expired: string[] = [];
      const queue: DeadlineQueue<string> = new DeadlineQueue<string>(clock, 500, (item) => {
        expired.push(`${item}@${clock.now()}`);
        if (item === 'first') queue.add('retry');
      });
      queue.add('first');
      clock.advance(500);
      assert.equal(clock.pending, 1);
      clock.advance(500);
      assert.deepEqual(expired, ['first@500', 'retry@1000']);
    });

    it('clear() forgets every item and its timer', () => {
      const clock = new ManualClock();
      const expired: number[] = [];
      const queue = new DeadlineQueue<number>(clock, 100, (i) => expired.push(i));
      queue.add(1);
      queue.add(2);
      queue.clear();
      clock.advance(1000);
      assert.deepEqual(expired, []);
      assert.equal(clock.pending, 0);
    });
  });
});
