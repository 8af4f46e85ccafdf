import assert from 'node:assert/strict';
import { PendingTable } from '../../src/link/pending-table';

describe('link/pending-table', () => {
  it('R-CONN-5: a key in flight is found until removed; a key removed and reused keeps one slot', () => {
    const table = new PendingTable<string>();
    table.set('8001', 'a');
    assert.equal(table.get('8001'), 'a');
    assert.equal(table.has('8002'), false);
    table.delete('8001');
    assert.equal(table.get('8001'), undefined);
    assert.equal(table.size, 0);
    for (let i = 0; i < 10_000; i++) {
      table.set('8001', `r${i}`);
      table.delete('8001');
    }
    assert.equal(table.slotCount, 1);
  });

  it('keys that never repeat (STANs) are swept, so the table stays bounded by what is in flight', () => {
    const table = new PendingTable<number>();
    table.set('held', 1);
    for (let i = 0; i < 50_000; i++) {
      table.set(`stan-${i}`, i);
      table.delete(`stan-${i}`);
    }
    assert.equal(table.size, 1);
    assert.ok(table.slotCount <= 4098, `${table.slotCount} slots`);
    assert.deepEqual(table.values(), [1]);
  });
});
