import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../../src/codec/async-frame';
import { decodeAll, type DecodeEvent } from '../../src/codec/decoder';
import { buildDialMonitor, DIAL_MONITOR_LENGTH, readDialMonitor } from '../../src/codec/dial-monitor';
import { fromHex } from '../../src/codec/hex';
import { ascii4, binary2, DEFAULT_MAX_FRAME_LENGTH, encodeLengthPrefixed, keepAliveFrame, LengthPrefixedDecoder, payloadStart, type LengthPrefix } from '../../src/codec/length-prefix';
import { buildMessageHeader, MESSAGE_HEADER_LENGTH, parseMessageHeader } from '../../src/codec/message-header';
import { decodeSdlcFrame, encodeSdlcFrame, type SdlcFrame } from '../../src/codec/sdlc';
import { encodeTpdu, readTpdu, TPDU_LENGTH, tpduFromHex } from '../../src/codec/tpdu';
import { DEFAULT_V80_MAX_FRAME, encodeV80Frame, V80Decoder, type V80Event } from '../../src/codec/v80';
import { lrc } from '../../src/codec/lrc';
import { CodecError } from '../../src/errors';
import { MessageCodec } from '../../src/iso8583/codec';
import type { FieldValues } from '../../src/iso8583/message';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { buildTlv, parseTlv, type Tlv } from '../../src/iso8583/tlv';
import { cutPoints, splitAt } from '../support/chunks';
import { vectors } from '../support/vectors';

/**
 * Correctness, not only typed errors: every decoder gives back exactly what its encoder wrote
 * (however the bytes are chunked), refuses a frame one byte longer than its maximum, one byte
 * short of what its length says, and a byte after its end. Each property is strong enough to
 * fail at `npm test`'s 300 runs on the bugs of docs/mutation-proof.md.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const codec = new MessageCodec(unionpayPos);
const bytes = (min: number, max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
const frames = (events: readonly DecodeEvent[]): Buffer[] => events.flatMap((e) => (e.type === 'frame' ? [e.frame] : []));
const errorCodes = (events: readonly DecodeEvent[]): string[] => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));
/** Throws a CodecError with one of `codes`, nothing else and not nothing. */
function refused(f: () => unknown, codes: readonly string[], what: string): void {
  assert.throws(f, (e: unknown) => e instanceof CodecError && codes.includes(e.code), what);
}
const digits = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const printable = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'), minLength: min, maxLength: max });

describe(`fuzz: decoders are correct, ${RUNS} cases each`, function () {
  this.timeout(120_000);

  describe('async frames (R-MDM-6)', () => {
    it('R-MDM-6: decode(encode(body)) is body, exactly one frame, nothing left over, however chunked', () => {
      fc.assert(
        fc.property(fc.array(bytes(1, DEFAULT_MAX_FRAME_LENGTH), { minLength: 1, maxLength: 3 }), cutPoints, (bodies, cuts) => {
          const d = new AsyncFrameDecoder();
          const events = decodeAll(d, splitAt(Buffer.concat(bodies.map(encodeAsyncFrame)), cuts));
          assert.deepEqual(frames(events), bodies);
          assert.deepEqual(events.filter((e) => e.type !== 'frame'), []);
          assert.equal(d.pendingBytes, 0);
        }),
        { numRuns: RUNS },
      );
    });

    it('R-MDM-6: a frame over the maximum (2048 + 1 and up) is refused as LENGTH_OVER_MAX and never delivered', () => {
      fc.assert(
        fc.property(fc.integer({ min: DEFAULT_MAX_FRAME_LENGTH + 1, max: DEFAULT_MAX_FRAME_LENGTH + 64 }), fc.integer({ min: 0, max: 255 }), cutPoints, (length, fill, cuts) => {
          const body = Buffer.alloc(length, fill === 0x02 ? 0x55 : fill); // no STX inside, so nothing can resync onto a sub-frame
          const events = decodeAll(new AsyncFrameDecoder(), splitAt(encodeAsyncFrame(body), cuts));
          assert.deepEqual(frames(events), [], `a ${length}-byte frame was delivered`);
          assert.ok(errorCodes(events).includes('LENGTH_OVER_MAX'), `no LENGTH_OVER_MAX for ${length} bytes: ${errorCodes(events).join(',')}`);
        }),
        { numRuns: RUNS },
      );
      // The maximum itself is a frame.
      assert.equal(frames(decodeAll(new AsyncFrameDecoder(), [encodeAsyncFrame(Buffer.alloc(DEFAULT_MAX_FRAME_LENGTH, 1))])).length, 1);
    });

    it('R-MDM-6: a frame one byte short of its length (ETX and a right LRC after it) is never delivered; the next good frame is', () => {
      const noStx = (b: Buffer): Buffer => Buffer.from(b.map((x) => (x === 0x02 ? 0x55 : x)));
      fc.assert(
        fc.property(bytes(2, 300).map(noStx), bytes(1, 300), cutPoints, (body, next, cuts) => {
          // The length says body.length; one byte fewer follows, then ETX and the LRC of what is there.
          const short = Buffer.concat([encodeAsyncFrame(body).subarray(0, 3 + body.length - 1), Buffer.from([0x03, 0])]);
          short[short.length - 1] = lrc(short, 1, short.length - 1);
          // An LRC that happens to be ETX makes the bytes a whole frame of the stated length after all.
          fc.pre(short[short.length - 1] !== 0x03);
          // Zero filler (no STX) past the end of any frame a resync inside the short one could start, then a good frame.
          const wire = Buffer.concat([short, Buffer.alloc(DEFAULT_MAX_FRAME_LENGTH + 8), encodeAsyncFrame(next)]);
          assert.deepEqual(frames(decodeAll(new AsyncFrameDecoder(), [short])), [], 'the short frame was delivered');
          assert.deepEqual(frames(decodeAll(new AsyncFrameDecoder(), splitAt(wire, cuts))), [next]);
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('length prefixes (R-FRAME-1, R-FRAME-2)', () => {
    const prefixes: readonly LengthPrefix[] = [binary2, ascii4];

    it('R-FRAME-1, R-FRAME-2: decode(encode(payload)) is payload, keep-alives included, however chunked', () => {
      const item = fc.oneof(bytes(1, DEFAULT_MAX_FRAME_LENGTH), fc.constant(Buffer.alloc(0)));
      fc.assert(
        fc.property(fc.array(item, { minLength: 1, maxLength: 4 }), cutPoints, (payloads, cuts) => {
          for (const prefix of prefixes) {
            const wire = Buffer.concat(payloads.map((p) => (p.length === 0 ? keepAliveFrame(prefix) : encodeLengthPrefixed(prefix, p))));
            const d = new LengthPrefixedDecoder(prefix);
            const events = decodeAll(d, splitAt(wire, cuts));
            const expected: DecodeEvent[] = payloads.map((p) => (p.length === 0 ? { type: 'keepalive' } : { type: 'frame', frame: p }));
            assert.deepEqual(events, expected, prefix.name);
            assert.equal(d.pendingBytes, 0);
            // One-shot form: the exact frame is accepted and its payload starts right after the prefix.
            for (const p of payloads) assert.equal(payloadStart(prefix, encodeLengthPrefixed(prefix, p)), prefix.size);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('R-FRAME-1: a length over 2048 (max + 1 and up) is refused as LENGTH_OVER_MAX, streaming and one-shot, and never delivered', () => {
      fc.assert(
        fc.property(fc.integer({ min: DEFAULT_MAX_FRAME_LENGTH + 1, max: DEFAULT_MAX_FRAME_LENGTH + 64 }), cutPoints, (length, cuts) => {
          for (const prefix of prefixes) {
            const frame = encodeLengthPrefixed(prefix, Buffer.alloc(length, 0x60), prefix.limit);
            const events = decodeAll(new LengthPrefixedDecoder(prefix), splitAt(frame, cuts));
            assert.deepEqual(frames(events), [], `${prefix.name}: a ${length}-byte frame was delivered`);
            assert.deepEqual(errorCodes(events), ['LENGTH_OVER_MAX'], prefix.name);
            refused(() => payloadStart(prefix, frame), ['LENGTH_OVER_MAX'], `${prefix.name}: payloadStart took ${length} bytes`);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('R-FRAME-1, R-FRAME-2: a frame one byte short of its length, or with a byte after it, is refused one-shot; streaming, the short one is never delivered', () => {
      fc.assert(
        fc.property(bytes(1, 600), fc.integer({ min: 0, max: 255 }), (payload, extra) => {
          for (const prefix of prefixes) {
            const frame = encodeLengthPrefixed(prefix, payload);
            refused(() => payloadStart(prefix, frame.subarray(0, frame.length - 1)), ['LENGTH_MISMATCH', 'TRUNCATED'], `${prefix.name}: one byte short accepted`);
            refused(() => payloadStart(prefix, Buffer.concat([frame, Buffer.from([extra])])), ['LENGTH_MISMATCH'], `${prefix.name}: a trailing byte accepted`);
            const d = new LengthPrefixedDecoder(prefix);
            assert.deepEqual(frames(decodeAll(d, [frame.subarray(0, frame.length - 1)])), [], `${prefix.name}: a short frame was delivered`);
            // ...and the byte that completes it delivers exactly the payload.
            assert.deepEqual(frames(decodeAll(d, [frame.subarray(frame.length - 1)])), [payload], prefix.name);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('TPDU, dial-monitor block, message header (R-MSG-1, R-DIAL-1, R-MSG-2)', () => {
    const address = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16).toUpperCase().padStart(4, '0'));

    it('R-MSG-1: readTpdu(encodeTpdu(t)) is t in exactly 5 bytes; 4 bytes are refused, and so is a hex TPDU of 9 or 11 digits', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 255 }), address, address, (id, destination, originator) => {
          const wire = encodeTpdu({ id, destination, originator });
          assert.equal(wire.length, TPDU_LENGTH);
          assert.deepEqual(readTpdu(wire), { id, destination, originator });
          assert.deepEqual(tpduFromHex(wire.toString('hex')), { id, destination, originator });
          refused(() => readTpdu(wire.subarray(0, TPDU_LENGTH - 1)), ['TRUNCATED'], '4-byte TPDU');
          refused(() => tpduFromHex(wire.toString('hex').slice(1)), ['BAD_TPDU'], '9 hex digits');
          refused(() => tpduFromHex(wire.toString('hex') + '0'), ['BAD_TPDU'], '11 hex digits');
        }),
        { numRuns: RUNS },
      );
    });

    it('R-DIAL-1: readDialMonitor(buildDialMonitor(b)) is b in exactly 33 bytes; 32 bytes or a 17-digit number are refused', () => {
      const number = digits(0, 16).map((d) => d.replace(/^0+/, ''));
      fc.assert(
        fc.property(number, number, bytes(12, 12), digits(17, 20), (ani, dnis, tail, tooLong) => {
          const wire = buildDialMonitor({ ani, dnis, tail });
          assert.equal(wire.length, DIAL_MONITOR_LENGTH);
          assert.deepEqual(readDialMonitor(wire), { ani, dnis, tail });
          refused(() => readDialMonitor(wire.subarray(0, DIAL_MONITOR_LENGTH - 1)), ['TRUNCATED'], '32-byte block');
          refused(() => buildDialMonitor({ ani: tooLong, dnis, tail }), ['TOO_LONG'], 'a 17-digit ANI');
        }),
        { numRuns: RUNS },
      );
    });

    it('R-MSG-2: parseMessageHeader(buildMessageHeader(h)) is h in exactly 6 bytes; 5 bytes are refused', () => {
      fc.assert(
        fc.property(digits(2, 2), digits(2, 2), digits(1, 1), digits(1, 1), digits(6, 6), (applicationCategory, softwareVersion, terminalStatus, processingRequirement, reserved) => {
          const h = { applicationCategory, softwareVersion, terminalStatus, processingRequirement, reserved };
          const wire = buildMessageHeader(h);
          assert.equal(wire.length, MESSAGE_HEADER_LENGTH);
          assert.deepEqual(parseMessageHeader(wire), h);
          refused(() => parseMessageHeader(wire.subarray(0, MESSAGE_HEADER_LENGTH - 1)), ['TRUNCATED'], '5-byte header');
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('ISO 8583 (R-MSG-3..5) and BER-TLV (R-MSG-7)', () => {
    /** Random messages over fixed, LL and LLL fields of every kind. */
    const message = fc.record(
      {
        2: digits(1, 19),
        3: digits(6, 6),
        4: digits(12, 12),
        11: digits(6, 6),
        35: fc.tuple(digits(1, 19), digits(0, 17)).map(([a, b]) => `${a}=${b}`),
        37: printable(12, 12),
        41: printable(8, 8),
        44: printable(1, 25),
        48: digits(1, 322),
        55: bytes(1, 255),
        60: digits(1, 19),
        62: bytes(1, 512),
        63: printable(1, 163),
        64: bytes(8, 8),
      },
      { requiredKeys: [] },
    );
    const mti = fc.constantFrom('0200', '0210', '0400', '0800', '0810');

    it('R-MSG-3, R-MSG-5: pack(unpack(wire)) is wire, and every field reads back as set; real frames too', () => {
      fc.assert(
        fc.property(mti, message, (m, fields) => {
          const wire = codec.pack({ mti: m, fields: fields as FieldValues });
          const back = codec.unpack(wire);
          assert.equal(back.mti, m);
          assert.deepEqual(back.numbers(), Object.keys(fields).map(Number).sort((a, b) => a - b));
          for (const [n, v] of Object.entries(fields)) assert.deepEqual(back.get(Number(n) as keyof FieldValues & number), v, `field ${n}`);
          assert.ok(codec.pack(codec.unpack(wire)).equals(wire));
        }),
        { numRuns: RUNS },
      );
      for (const hex of [vectors().mac[0].frame, vectors().decode[0].frame]) {
        const frame = fromHex(hex);
        const at = 2 + TPDU_LENGTH + MESSAGE_HEADER_LENGTH;
        assert.ok(codec.pack(codec.unpack(frame, at)).equals(frame.subarray(at)));
      }
    });

    it('R-MSG-3: a message with a byte after its last field is refused as TRAILING_BYTES; one byte short is refused', () => {
      fc.assert(
        fc.property(mti, message, fc.integer({ min: 0, max: 255 }), (m, fields, extra) => {
          const wire = codec.pack({ mti: m, fields: fields as FieldValues });
          refused(() => codec.unpack(Buffer.concat([wire, Buffer.from([extra])])), ['TRAILING_BYTES'], 'a trailing byte accepted');
          refused(() => codec.unpack(wire.subarray(0, wire.length - 1)), ['TRUNCATED', 'TRAILING_BYTES', 'BAD_LENGTH', 'LENGTH_OVER_MAX', 'BAD_BCD', 'UNKNOWN_FIELD'], 'one byte short accepted');
        }),
        { numRuns: RUNS },
      );
    });

    it('R-MSG-5: a variable field one over its maximum is refused by pack and by unpack', () => {
      const cases: { n: 2 | 44 | 55; value: (len: number) => string | Buffer; max: number }[] = [
        { n: 2, value: (len) => '1'.repeat(len), max: 19 },
        { n: 44, value: (len) => 'A'.repeat(len), max: 25 },
        { n: 55, value: (len) => Buffer.alloc(len, 0x9f), max: 255 },
      ];
      for (const c of cases) {
        refused(() => codec.pack({ mti: '0200', fields: { [c.n]: c.value(c.max + 1) } }), ['LENGTH_OVER_MAX', 'TOO_LONG', 'BAD_VALUE', 'FIELD_TOO_LONG'], `pack: field ${c.n} of ${c.max + 1}`);
        // The wire form of max + 1: pack max, then raise its length prefix by one and add a byte.
        const wire = codec.pack({ mti: '0200', fields: { [c.n]: c.value(c.max) } });
        const prefixAt = 10;
        const over = c.n === 55 ? Buffer.concat([wire, Buffer.from([0x9f])]) : c.n === 2 ? Buffer.concat([wire.subarray(0, -1), Buffer.from([0x11])]) : Buffer.concat([wire, Buffer.from('A')]);
        if (c.n === 55) over.writeUInt16BE(0x0256, prefixAt);
        else if (c.n === 2) over[prefixAt] = 0x20;
        else over[prefixAt] = 0x26;
        refused(() => codec.unpack(over), ['LENGTH_OVER_MAX', 'TOO_LONG', 'BAD_LENGTH', 'FIELD_TOO_LONG'], `unpack: field ${c.n} of ${c.max + 1}`);
      }
    });

    it('R-MSG-7: parseTlv(buildTlv(items)) is items; one byte short or a stray byte after is refused', () => {
      const tag = fc.oneof(
        fc.integer({ min: 0, max: 255 }).filter((b) => (b & 0x1f) !== 0x1f).map((b) => [b]),
        fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0x7f })).map(([hi, b]) => [(hi << 5) | 0x1f, b]),
      );
      const item = fc.tuple(tag, bytes(0, 300)).map(([t, value]): Tlv => ({ tag: Buffer.from(t).toString('hex').toUpperCase(), value }));
      fc.assert(
        fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), (items) => {
          const wire = buildTlv(items);
          assert.deepEqual(parseTlv(wire), items);
          refused(() => parseTlv(wire.subarray(0, wire.length - 1)), ['TRUNCATED'], 'one byte short accepted');
          refused(() => parseTlv(Buffer.concat([wire, Buffer.from([0x9f])])), ['TRUNCATED'], 'a stray tag byte accepted');
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('V.80 and SDLC (R-MDM-7)', () => {
    const v80Frames = (events: readonly V80Event[]): Buffer[] => events.flatMap((e) => (e.type === 'frame' ? [e.frame] : []));

    it('R-MDM-7: V.80 decode(encode(frame)) is frame, escapes included, however chunked; max + 1 is refused and never delivered', () => {
      fc.assert(
        fc.property(fc.array(bytes(1, 600), { minLength: 1, maxLength: 3 }), cutPoints, fc.integer({ min: 1, max: 64 }), (list, cuts, over) => {
          const d = new V80Decoder();
          const events: V80Event[] = [];
          for (const chunk of splitAt(Buffer.concat(list.map(encodeV80Frame)), cuts)) d.push(chunk, (e) => events.push(e));
          assert.deepEqual(v80Frames(events), list);
          assert.deepEqual(events.filter((e) => e.type !== 'frame'), []);
          assert.equal(d.pendingBytes, 0);
          const small = new V80Decoder({ maxFrame: 64 });
          const out: V80Event[] = [];
          small.push(encodeV80Frame(Buffer.alloc(64 + over, 0x41)), (e) => out.push(e));
          small.push(encodeV80Frame(Buffer.alloc(64, 0x42)), (e) => out.push(e));
          assert.deepEqual(v80Frames(out), [Buffer.alloc(64, 0x42)]);
          assert.ok(out.some((e) => e.type === 'error' && e.error.code === 'V80_FRAME_OVER_MAX'));
        }),
        { numRuns: RUNS },
      );
      assert.equal(DEFAULT_V80_MAX_FRAME, 4096);
    });

    it('R-MDM-7: SDLC decode(encode(frame)) is frame for I, S and U frames', () => {
      const seq = fc.integer({ min: 0, max: 7 });
      const frame: fc.Arbitrary<SdlcFrame> = fc.oneof(
        fc.record({ kind: fc.constant('I' as const), address: fc.integer({ min: 0, max: 255 }), ns: seq, nr: seq, pf: fc.boolean(), info: bytes(0, 300) }),
        fc.record({ kind: fc.constant('S' as const), address: fc.integer({ min: 0, max: 255 }), type: fc.constantFrom('RR' as const, 'RNR' as const, 'REJ' as const, 'SREJ' as const), nr: seq, pf: fc.boolean() }),
        fc.record({ kind: fc.constant('U' as const), address: fc.integer({ min: 0, max: 255 }), type: fc.constantFrom('SNRM' as const, 'UA' as const, 'DISC' as const, 'DM' as const, 'FRMR' as const, 'UI' as const), pf: fc.boolean(), info: bytes(0, 40) }),
      );
      fc.assert(
        fc.property(frame, (f) => {
          const wire = encodeSdlcFrame(f);
          assert.equal(wire.length, 2 + (f.kind === 'S' ? 0 : f.info.length));
          assert.deepEqual(decodeSdlcFrame(wire), { ...f });
          refused(() => decodeSdlcFrame(wire.subarray(0, 1)), ['SDLC_SHORT_FRAME'], 'a 1-byte SDLC frame');
          if (f.kind === 'S') refused(() => decodeSdlcFrame(Buffer.concat([wire, Buffer.from([0])])), ['SDLC_S_FRAME_WITH_INFO'], 'an S frame with a byte after it');
        }),
        { numRuns: RUNS },
      );
    });
  });
});
