import assert from 'node:assert/strict';
import { runCli } from '../support/cli';

describe('cli: nacbridge demo (npm start)', () => {
  it('R-MDM-7: runs the simulated bench (two async POS and a synchronous one) through the NAC to its summary and exits 0, printing no key and no full PAN', async () => {
    const r = await runCli(['demo']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /re-encoded byte for byte: yes/);
    assert.match(r.stdout, /line1 answered after 1 ring\(s\): caller ID 50582613/);
    assert.match(r.stdout, /line2 answered after 1 ring\(s\): caller ID absent \(private\)/);
    assert.match(r.stdout, /ANI 50582613 DNIS 61651108 {2}TPDU 0003->0001/, 'dial block and line address on the way out');
    assert.match(r.stdout, /pin +0 +[0-9A-F]{8} +[0-9A-F]{8} +PASS/);
    assert.match(r.stdout, /POS 2 +reversal \(98\) +00 +ok/);
    assert.match(r.stdout, /POS 1 key loading into szzt-emulator on tcp:/);
    assert.match(r.stdout, /POS 2 +sale, wrong PIN +55/);
    assert.match(r.stdout, /keys loaded and proved: yes; every transaction as expected: yes/);
    // R-MDM-7: a synchronous POS on a third line with framing sdlc, in the same summary table.
    assert.match(r.stdout, /line3 \(address 0003, DNIS 61651110, sdlc\) on tcp:/);
    assert.match(r.stdout, /line3 answered after 1 ring\(s\): caller ID 50582614/);
    assert.match(r.stdout, /line3 SDLC: link up 1 time\(s\), \d+ poll\(s\), I-frames 2 in \/ 2 out, 0 link reset\(s\), receive rate 9600 bps/);
    assert.match(r.stdout, /POS 3 sync +sign-on +00 +ok/);
    assert.match(r.stdout, /POS 3 sync +sale 20\.00 +00 +ok/);
    assert.match(r.stdout, /line3 \(0003\) +-> cups +0200 STAN 000002 +ANI 50582614 DNIS 61651110 +TPDU 0003->0003/);
    // The sale the platform never answers is the plan, and says so (it printed "xx timeout: REQUEST_TIMEOUT ...").
    assert.match(r.stdout, /line2 \(0002\) +-- no answer, as planned: the platform never answers this sale; the NAC gave up after 2 s\n/);
    assert.doesNotMatch(r.stdout, / xx /);
    assert.match(r.stdout, / 60 {2}Reserved \(custom\): type, batch, network management /, 'field labels whole');
    assert.ok(!r.stdout.includes('CA5D92598DCA48CE'), 'no TMK');
    assert.ok(!r.stdout.includes('6212142000000000012'), 'no full PAN');
  });
});
