import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { fromHex, toHex } from '../../src/codec/hex';
import { decodeSdlcFrame, encodeSdlcFrame, type SdlcFrame } from '../../src/codec/sdlc';
import { encodeV80Frame, encodeV80Rate, V80Decoder } from '../../src/codec/v80';
import { SdlcPrimary, zeroSdlcCounters, type SdlcOptions } from '../../src/access/sdlc-framing';
import { SdlcSecondary, type SdlcFaults } from '../../src/terminal/sdlc-secondary';

/** One wire hop on the manual clock (line latency): no frame is handled inside its sender's call. */
const HOP_MS = 20;
const REQUEST = fromHex('6000030000' + '603100000000' + '0800' + '0020000000c00012');

function bench(faults: SdlcFaults = {}, options: SdlcOptions = {}, answerAfterMs = 100) {
  const clock = new ManualClock();
  const counters = zeroSdlcCounters();
  const relayed: string[] = [];
  const errors: string[] = [];
  const nacWrote: SdlcFrame[] = [];
  const toTerminal: Array<(b: Buffer) => void> = [];
  const onClose: Array<() => void> = [];
  let ended = false;
  const primaryRef: { p: SdlcPrimary | null } = { p: null };
  const sniff = new V80Decoder();
  const primary = new SdlcPrimary(
    {
      write(bytes) {
        sniff.push(bytes, (e) => {
          if (e.type === 'frame') nacWrote.push(decodeSdlcFrame(e.frame));
        });
        const copy = Buffer.from(bytes);
        clock.setTimeout(() => toTerminal.forEach((l) => l(copy)), HOP_MS);
        return true;
      },
      clock,
      events: {
        frame(frame) {
          relayed.push(toHex(frame));
          // The platform answers with the TPDU swapped back.
          const answer = Buffer.concat([fromHex('6000000003'), frame.subarray(5)]);
          clock.setTimeout(() => primaryRef.p?.send(answer), answerAfterMs);
        },
        error: (e) => errors.push(e.code),
        discarded: () => undefined,
      },
    },
    { counters, ...options },
  );
  primaryRef.p = primary;
  const stream = {
    write(bytes: Uint8Array) {
      const copy = Buffer.from(bytes);
      clock.setTimeout(() => {
        if (!ended) primary.receive(copy);
      }, HOP_MS);
      return true;
    },
    on(event: 'data' | 'close', listener: ((chunk: Buffer) => void) | (() => void)) {
      if (event === 'data') toTerminal.push(listener as (chunk: Buffer) => void);
      else onClose.push(listener as () => void);
    },
    end() {
      ended = true;
      primary.end();
      onClose.forEach((l) => l());
    },
  };
  const terminal = new SdlcSecondary(stream, { clock, faults, timeoutMs: 60_000 });
  return { clock, counters, relayed, errors, nacWrote, primary, terminal, stream };
}

async function transact(b: ReturnType<typeof bench>, request = REQUEST, ms = 20_000): Promise<string> {
  const answer = b.terminal.request(request);
  b.clock.advance(ms);
  return toHex(await answer);
}

describe('access/sdlc-framing: the NAC as SDLC primary (R-MDM-7)', () => {
  it('R-MDM-7: SNRM with P goes out at once after CONNECT, UA brings the link up, the first RR poll follows within 3 s', () => {
    const b = bench();
    assert.deepEqual(b.nacWrote.map((f) => toHex(encodeSdlcFrame(f))), ['3093']);
    b.clock.advance(3000);
    assert.equal(b.primary.state.phase, 'up');
    const poll = b.nacWrote[1];
    assert.ok(poll?.kind === 'S' && poll.type === 'RR' && poll.pf && poll.nr === 0);
    assert.equal(b.counters.linksUp, 1);
  });

  it('R-MDM-7: a request I-frame is relayed once exactly; the answer goes back as an I-frame with P and the TPDU swapped back', async () => {
    const b = bench();
    b.clock.advance(1000);
    const answer = await transact(b);
    assert.deepEqual(b.relayed, [toHex(REQUEST)]);
    assert.equal(answer, toHex(Buffer.concat([fromHex('6000000003'), REQUEST.subarray(5)])));
    const iOut = b.nacWrote.filter((f) => f.kind === 'I');
    assert.equal(iOut.length, 1);
    assert.ok(iOut[0]?.kind === 'I' && iOut[0].pf && iOut[0].ns === 0 && iOut[0].nr === 1);
    assert.equal(b.counters.iFramesIn, 1);
    assert.equal(b.counters.iFramesOut, 1);
    assert.deepEqual(b.errors, []);
    // The NAC keeps polling while the terminal stays on the line, and never sends DISC on its own.
    const polls = b.counters.polls;
    b.clock.advance(10_000);
    assert.ok(b.counters.polls > polls + 10);
    assert.ok(!b.nacWrote.some((f) => f.kind === 'U' && f.type === 'DISC'));
  });

  it('R-MDM-7: sequence numbers wrap 7 -> 0 and every request is relayed once', async () => {
    const b = bench();
    b.clock.advance(1000);
    for (let i = 0; i < 10; i++) {
      const req = Buffer.concat([REQUEST, Buffer.from([i])]);
      const answer = await transact(b, req, 2000);
      assert.ok(answer.endsWith(toHex(Buffer.from([i]))));
    }
    assert.equal(b.relayed.length, 10);
    assert.deepEqual(b.primary.state.vs, 10 % 8);
    assert.deepEqual(b.primary.state.vr, 10 % 8);
    assert.equal(b.counters.linkResets, 0);
  });

  it('R-MDM-7: a lost acknowledgement makes the terminal resend its I-frame: acknowledged, relayed once, no new SNRM', async () => {
    const b = bench({ lostAck: true }, {}, 5000);
    b.clock.advance(1000);
    const answer = await transact(b);
    assert.ok(answer.startsWith('6000000003'));
    assert.equal(b.relayed.length, 1);
    assert.equal(b.counters.retransmissionsIn, 1);
    assert.equal(b.terminal.counters.snrm, 1);
    assert.equal(b.counters.linkResets, 0);
  });

  it('R-MDM-7: a duplicate I-frame (same N(S)) in one turn is relayed once', async () => {
    const b = bench({ duplicate: true });
    b.clock.advance(1000);
    await transact(b);
    assert.equal(b.relayed.length, 1);
    assert.equal(b.counters.retransmissionsIn, 1);
    assert.equal(b.counters.linkResets, 0);
  });

  it('R-MDM-7: an I-frame the modem marks bad (EM B2) is dropped and counted; the next poll brings the good copy, relayed once', async () => {
    const b = bench({ badFcs: true });
    b.clock.advance(1000);
    const answer = await transact(b);
    assert.ok(answer.startsWith('6000000003'));
    assert.equal(b.relayed.length, 1);
    assert.equal(b.counters.badFcs, 1);
    assert.equal(b.counters.pollTimeouts, 1);
    assert.equal(b.counters.linkResets, 0);
    assert.equal(b.terminal.counters.snrm, 1);
  });

  it('R-MDM-7: a slow poll answer inside T1 is waited for; the transaction completes', async () => {
    const b = bench({ slowPollMs: 1500 });
    b.clock.advance(5000);
    const answer = await transact(b, REQUEST, 30_000);
    assert.ok(answer.startsWith('6000000003'));
    assert.equal(b.relayed.length, 1);
    assert.equal(b.counters.pollTimeouts, 0);
  });

  it('R-MDM-7: once the call has ended the primary writes nothing more and leaves no timer', () => {
    const b = bench({}, { t1Ms: 1000, n2: 2 });
    b.clock.advance(500);
    b.stream.end(); // the terminal is gone: nothing answers
    // the primary was ended by the hang-up: nothing more is written
    const written = b.nacWrote.length;
    b.clock.advance(10_000);
    assert.equal(b.nacWrote.length, written);
    assert.equal(b.clock.pending, 0);
  });

  it('R-MDM-7: an unanswered poll is repeated every T1 and after N2 the link is reset with SNRM', () => {
    const clock = new ManualClock();
    const wrote: SdlcFrame[] = [];
    const errors: string[] = [];
    const counters = zeroSdlcCounters();
    const sniff = new V80Decoder();
    const p = new SdlcPrimary(
      {
        write: (bytes) => {
          sniff.push(bytes, (e) => e.type === 'frame' && wrote.push(decodeSdlcFrame(e.frame)));
          return true;
        },
        clock,
        events: { frame: () => undefined, error: (e) => errors.push(e.code), discarded: () => undefined },
      },
      { counters, t1Ms: 1000, n2: 2, pollIntervalMs: 100 },
    );
    p.receive(encodeV80Frame(fromHex('3073')));
    clock.advance(100 + 1000 * 3);
    assert.deepEqual(
      wrote.map((f) => (f.kind === 'U' ? f.type : f.kind === 'S' ? f.type : 'I')),
      ['SNRM', 'RR', 'RR', 'RR', 'SNRM'],
    );
    assert.deepEqual(errors, ['SDLC_POLL_LOST']);
    assert.equal(counters.linkResets, 1);
    assert.equal(counters.pollTimeouts, 3);
    p.end();
    assert.equal(clock.pending, 0);
  });

  describe('scripted terminal frames', () => {
    function scripted(options: SdlcOptions = {}) {
      const clock = new ManualClock();
      const wrote: SdlcFrame[] = [];
      const relayed: string[] = [];
      const counters = zeroSdlcCounters();
      const sniff = new V80Decoder();
      const p = new SdlcPrimary(
        {
          write: (bytes) => {
            sniff.push(bytes, (e) => e.type === 'frame' && wrote.push(decodeSdlcFrame(e.frame)));
            return true;
          },
          clock,
          events: { frame: (f) => relayed.push(toHex(f)), error: () => undefined, discarded: () => undefined },
        },
        { counters, pollIntervalMs: 100, ...options },
      );
      const term = (hex: string): void => p.receive(encodeV80Frame(fromHex(hex)));
      const last = (): SdlcFrame | undefined => wrote[wrote.length - 1];
      return { clock, wrote, relayed, counters, p, term, last };
    }

    it('R-MDM-7: RNR holds the NAC\'s sends until RR', () => {
      const s = scripted();
      s.term('3073'); // UA
      s.clock.advance(100); // RR P
      s.term('3015'); // RNR nr=0 F
      s.p.send(fromHex('6000000003aa'));
      s.clock.advance(100);
      assert.ok(s.last()?.kind === 'S', 'polls, no I-frame while the terminal is busy');
      s.term('3011'); // RR nr=0 F
      assert.ok(s.last()?.kind === 'I');
      assert.equal(s.counters.rnrIn, 1);
    });

    it('R-MDM-7: REJ makes the NAC resend from N(R); counted', () => {
      const s = scripted();
      s.term('3073');
      s.clock.advance(100);
      s.p.send(fromHex('6000000003aa')); // not our turn: queued
      s.term('3011'); // RR F: our turn, I ns=0 P goes out
      assert.ok(s.last()?.kind === 'I');
      s.term('3019'); // REJ nr=0 F
      const again = s.last();
      assert.ok(again?.kind === 'I' && again.ns === 0);
      assert.equal(s.counters.rejIn, 1);
      assert.equal(s.counters.retransmissionsOut, 1);
      s.term('3031'); // RR nr=1 F: acknowledged
      assert.equal(s.p.state.unacked, 0);
    });

    it('R-MDM-7: an out-of-sequence I-frame is answered with REJ, the resent frame relayed once', () => {
      const s = scripted();
      s.term('3073');
      s.clock.advance(100);
      s.term('3012' + 'aa'); // I ns=1 nr=0 F: ns=0 was lost
      const rej = s.last();
      assert.ok(rej?.kind === 'S' && rej.type === 'REJ' && rej.nr === 0);
      s.term('3010' + 'bb'); // I ns=0 F
      s.clock.advance(100);
      assert.deepEqual(s.relayed, ['BB']);
      assert.equal(s.counters.rejOut, 1);
    });

    it('R-MDM-7: DM and FRMR from the terminal reset the link with SNRM; counted', () => {
      const s = scripted();
      s.term('3073');
      s.clock.advance(100);
      s.term('301f'); // DM F
      assert.ok(s.last()?.kind === 'U');
      s.term('3073');
      s.clock.advance(100);
      s.term('3097'); // FRMR F
      const u = s.last();
      assert.ok(u?.kind === 'U' && u.type === 'SNRM');
      assert.equal(s.counters.frmr, 1);
      assert.equal(s.counters.linkResets, 2);
    });

    it('R-MDM-7: a request to disconnect (RD) is answered with DISC; the line then idles until hang-up', () => {
      const s = scripted();
      s.term('3073');
      s.clock.advance(100);
      s.term('3053'); // RD F
      const d = s.last();
      assert.ok(d?.kind === 'U' && d.type === 'DISC');
      s.term('3073');
      const n = s.wrote.length;
      s.clock.advance(10_000);
      assert.equal(s.wrote.length, n);
      assert.equal(s.p.send(fromHex('60')), false);
    });

    it('R-MDM-7: the V.80 rate indication is the connect rate, never data', () => {
      const s = scripted();
      s.p.receive(encodeV80Rate(1200, 1200));
      s.term('3073');
      assert.equal(s.counters.connectRateBps, 1200);
      assert.equal(s.p.state.phase, 'up');
    });
  });

  it('R-MDM-7: after hang-up nothing is written; the next call starts at SNRM with N(S)=N(R)=0', async () => {
    const b = bench();
    b.clock.advance(1000);
    await transact(b);
    assert.equal(b.primary.state.vs, 1);
    b.stream.end();
    const n = b.nacWrote.length;
    b.clock.advance(10_000);
    assert.equal(b.nacWrote.length, n);
    const again = bench();
    again.clock.advance(1000);
    assert.deepEqual([again.primary.state.vs, again.primary.state.vr], [0, 0]);
    await transact(again);
    const i = again.nacWrote.find((f) => f.kind === 'I');
    assert.ok(i?.kind === 'I' && i.ns === 0 && i.nr === 1);
  });
});
