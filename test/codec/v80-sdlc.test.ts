import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex as rawHex, toHex as upperHex } from '../../src/codec/hex';
import { decodeSdlcFrame, encodeSdlcFrame, type SdlcFrame } from '../../src/codec/sdlc';
import { encodeV80Frame, encodeV80Rate, V80Decoder, type V80Event } from '../../src/codec/v80';
import { CodecError } from '../../src/errors';
import { cutPoints, splitAt } from '../support/chunks';
const toHex = (b: Uint8Array): string => upperHex(b).toLowerCase();
const fromHex = (s: string): Buffer => rawHex(s.replace(/\s/g, ''));

function decode(chunks: Iterable<Uint8Array>): V80Event[] {
  const d = new V80Decoder();
  const out: V80Event[] = [];
  for (const c of chunks) d.push(c, (e) => out.push(e));
  return out;
}
const frames = (events: V80Event[]): string[] => events.flatMap((e) => (e.type === 'frame' ? [toHex(e.frame)] : []));
const dropped = (events: V80Event[]): number =>
  events.reduce((n, e) => n + (e.type === 'discarded' || e.type === 'bad-fcs' || e.type === 'abort' ? e.bytes : 0), 0);

describe('codec/v80 (R-MDM-7)', () => {
  it('R-MDM-7: 0x19, 0x99, 0x11 and 0x13 never go raw: 19 5C, 19 76, 19 A0, 19 A1, and a flag ends the frame', () => {
    assert.equal(toHex(encodeV80Frame(fromHex('30 19 99 11 13 41'))), '3019' + '5c' + '1976' + '19a0' + '19a1' + '41' + '19b1');
  });

  it('R-MDM-7: every transparency pair the recommendation defines decodes, with 0x99 accepted as EM', () => {
    const pairs: Array<[string, string]> = [
      ['195c', '19'], ['195d', '1919'], ['1976', '99'], ['1977', '9999'], ['19a0', '11'], ['19a1', '13'],
      ['19a2', '1111'], ['19a3', '1313'], ['19a4', '1999'], ['19a5', '1911'], ['19a6', '1913'], ['19a7', '9919'],
      ['19a8', '9911'], ['19a9', '9913'], ['19aa', '1119'], ['19ab', '1199'], ['19ac', '1113'], ['19ad', '1319'],
      ['19ae', '1399'], ['19af', '1311'], ['995c', '19'], ['99a1', '13'],
    ];
    for (const [wire, data] of pairs) assert.deepEqual(frames(decode([fromHex(`30 ${wire} 19b1`)])), [`30${data}`], wire);
  });

  it('R-MDM-7: EM B2 (bad FCS) and EM B0 (abort) drop the frame and count its bytes; the next frame decodes', () => {
    const events = decode([fromHex('3011 223319b2 30 4419b0 3073 19b1')]);
    assert.deepEqual(frames(events), ['3073']);
    assert.deepEqual(
      events.filter((e) => e.type === 'bad-fcs' || e.type === 'abort').map((e) => e.type),
      ['bad-fcs', 'abort'],
    );
    assert.equal(dropped(events), 6 + 4);
  });

  it('R-MDM-7: a rate indication is parsed and reported, never passed on as data', () => {
    const events = decode([Buffer.concat([fromHex('30'), encodeV80Rate(1200, 2400), fromHex('7319b1')])]);
    assert.deepEqual(frames(events), ['3073']);
    const rate = events.find((e) => e.type === 'indication');
    assert.ok(rate?.type === 'indication' && rate.indication.kind === 'rate');
    assert.equal(rate.indication.txBps, 1200);
    assert.equal(rate.indication.rxBps, 2400);
  });

  it('R-MDM-7: an undefined escape is a typed error and its two bytes are counted', () => {
    const events = decode([fromHex('30 19 ff 73 19 b1')]);
    assert.deepEqual(frames(events), ['3073']);
    const err = events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error' && err.error instanceof CodecError && err.error.code === 'V80_UNKNOWN_ESCAPE');
    assert.equal(dropped(events), 2);
  });

  it('R-MDM-7: a frame over the maximum is dropped whole and counted', () => {
    const d = new V80Decoder({ maxFrame: 4 });
    const out: V80Event[] = [];
    d.push(fromHex('0102030405 19b1 3073 19b1'), (e) => out.push(e));
    assert.deepEqual(frames(out), ['3073']);
    assert.equal(dropped(out), 7);
  });

  it('R-MDM-7: every byte value survives encode and decode, frames split at every offset (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 4 }), cutPoints, (list, cuts) => {
        const wire = Buffer.concat(list.map((f) => encodeV80Frame(f)));
        const events = decode(splitAt(wire, cuts));
        assert.deepEqual(frames(events), list.map((f) => toHex(f)));
        assert.equal(dropped(events), 0);
      }),
    );
    // every value, and every split offset of one frame holding all 256 values
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const wire = encodeV80Frame(all);
    for (let cut = 0; cut <= wire.length; cut++) assert.deepEqual(frames(decode([wire.subarray(0, cut), wire.subarray(cut)])), [toHex(all)], `cut at ${cut}`);
  });

  it('R-MDM-7: the encoder never leaves 0x19, 0x99, 0x11 or 0x13 raw inside data (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (data) => {
        const wire = encodeV80Frame(data);
        let i = 0;
        while (i < wire.length) {
          const b = wire[i] ?? 0;
          assert.ok(b !== 0x99 && b !== 0x11 && b !== 0x13, `raw 0x${b.toString(16)} at ${i}`);
          if (b === 0x19) i += 2;
          else i += 1;
        }
      }),
    );
  });
});

describe('codec/sdlc (R-MDM-7)', () => {
  it('R-MDM-7: SNRM with P is 30 93, UA with F is 30 73, DISC with P is 30 53', () => {
    assert.equal(toHex(encodeSdlcFrame({ kind: 'U', address: 0x30, type: 'SNRM', pf: true, info: Buffer.alloc(0) })), '3093');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'U', address: 0x30, type: 'UA', pf: true, info: Buffer.alloc(0) })), '3073');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'U', address: 0x30, type: 'DISC', pf: true, info: Buffer.alloc(0) })), '3053');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'U', address: 0x30, type: 'DM', pf: true, info: Buffer.alloc(0) })), '301f');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'U', address: 0x30, type: 'FRMR', pf: false, info: Buffer.alloc(0) })), '3087');
  });

  it('R-MDM-7: RR / RNR / REJ and I-frame control bytes carry N(R), N(S) and P/F modulo 8', () => {
    assert.equal(toHex(encodeSdlcFrame({ kind: 'S', address: 0x30, type: 'RR', nr: 0, pf: true })), '3011');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'S', address: 0x30, type: 'RNR', nr: 7, pf: false })), '30e5');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'S', address: 0x30, type: 'REJ', nr: 3, pf: true })), '3079');
    assert.equal(toHex(encodeSdlcFrame({ kind: 'I', address: 0x30, ns: 7, nr: 1, pf: true, info: fromHex('6000030000') })), '303e6000030000');
    assert.throws(() => encodeSdlcFrame({ kind: 'I', address: 0x30, ns: 8, nr: 0, pf: false, info: Buffer.alloc(0) }), (e: unknown) => e instanceof CodecError && e.code === 'SDLC_BAD_SEQUENCE');
  });

  it('R-MDM-7: every frame survives encode and decode, every control byte decodes or is a typed error (property)', () => {
    const seqs = fc.integer({ min: 0, max: 7 });
    const frame: fc.Arbitrary<SdlcFrame> = fc.oneof(
      fc.record({ kind: fc.constant('I' as const), address: fc.integer({ min: 0, max: 255 }), ns: seqs, nr: seqs, pf: fc.boolean(), info: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) }),
      fc.record({ kind: fc.constant('S' as const), address: fc.integer({ min: 0, max: 255 }), type: fc.constantFrom('RR' as const, 'RNR' as const, 'REJ' as const), nr: seqs, pf: fc.boolean() }),
      fc.record({ kind: fc.constant('U' as const), address: fc.integer({ min: 0, max: 255 }), type: fc.constantFrom('SNRM' as const, 'UA' as const, 'DISC' as const, 'DM' as const, 'FRMR' as const), pf: fc.boolean(), info: fc.constant(Buffer.alloc(0)) }),
    );
    fc.assert(fc.property(frame, (f) => assert.deepEqual(decodeSdlcFrame(encodeSdlcFrame(f)), { ...f })));
    for (let c = 0; c < 256; c++) {
      try {
        const f = decodeSdlcFrame(Buffer.from([0x30, c]));
        assert.equal(encodeSdlcFrame(f)[1], c);
      } catch (e) {
        assert.ok(e instanceof CodecError, `control 0x${c.toString(16)}`);
      }
    }
  });
});
