import assert from 'node:assert/strict';
import { runCli } from '../support/cli';

describe('cli: nacbridge demo (npm start)', () => {
  it('runs the simulated bench to its summary and exits 0, printing no key and no full PAN', async () => {
    const r = await runCli(['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /re-encoded byte for byte: yes/);
    assert.match(r.stdout, /pin {4}0 {5}\w{8} +\w{8} +PASS/);
    assert.match(r.stdout, /keys loaded and proved: yes; every transaction as expected: yes/);
    assert.ok(!r.stdout.includes('CA5D92598DCA48CE'), 'no TMK');
    assert.ok(!r.stdout.includes('6212142000000000012'), 'no full PAN');
    assert.match(r.stdout, /621214\*{9}0012/);
  });
});
