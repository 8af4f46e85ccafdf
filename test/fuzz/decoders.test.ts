import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock';
import { AsyncFrameDecoder, encodeAsyncFrame } from '../../src/codec/async-frame';
import { decodeAll } from '../../src/codec/decoder';
import { fromHex } from '../../src/codec/hex';
import { ascii4, binary2, LengthPrefixedDecoder } from '../../src/codec/length-prefix';
import { readTerminalEnvelope } from '../../src/codec/terminal-envelope';
import { NacbridgeError } from '../../src/errors';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { parseTlv } from '../../src/iso8583/tlv';
import { ModemChannel, NUMERIC_RESULTS } from '../../src/modem/at-channel';
import { CallerIdCollector, parseCallerIdPacket } from '../../src/modem/caller-id';
import { SzztFrameDecoder } from '../../src/pinpad/szzt-frame';
import { cutPoints, splitAt } from '../support/chunks';
import { MemorySerialLine, settle } from '../support/memory-serial';
import { vectors } from '../support/vectors';

/**
 * Every decoder against random and mutated input: a result or a typed error, never a crash, never
 * a hang. `npm test` runs a bounded number of cases; `npm run fuzz` sets FUZZ_RUNS much higher.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const typedOnly = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof NacbridgeError, `untyped error: ${String(e)}`);
  }
};

/** A valid input with bytes changed, cut, or spliced with noise. */
function mutated(base: Uint8Array): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), fc.uint8Array({ maxLength: 20 }))
    .map(([edits, cut, noise]) => {
      const b = Buffer.from(base);
      for (const [at, value] of edits) if (b.length > 0) b[at % b.length] = value;
      const kept = b.subarray(0, b.length === 0 ? 0 : (cut % b.length) + 1);
      return Buffer.concat([kept, Buffer.from(noise)]);
    });
}

const sample0200 = fromHex(vectors().mac[0].frame);
const sample0810 = fromHex(vectors().decode[0].frame);
const codec = new MessageCodec(unionpayPos);

describe(`fuzz: every decoder, ${RUNS} cases each`, function () {
  this.timeout(120_000);

  it('length prefixes (binary2, ascii4): typed events only, however chunked', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)), mutated(sample0810)), cutPoints, (bytes, cuts) => {
        for (const prefix of [binary2, ascii4]) {
          for (const e of decodeAll(new LengthPrefixedDecoder(prefix), splitAt(bytes, cuts))) if (e.type === 'error') assert.ok(e.error instanceof NacbridgeError);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('async frames: typed events only, memory bounded', () => {
    const good = encodeAsyncFrame(sample0200.subarray(2));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }).map((u) => Buffer.from(u)), mutated(good)), cutPoints, (bytes, cuts) => {
        const d = new AsyncFrameDecoder();
        for (const e of decodeAll(d, splitAt(bytes, cuts))) if (e.type === 'error') assert.ok(e.error instanceof NacbridgeError);
        assert.ok(d.pendingBytes <= 2048 + 5);
      }),
      { numRuns: RUNS },
    );
  });

  it('terminal envelopes and ISO 8583 messages (random and mutated real frames)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)), mutated(sample0200.subarray(2)), mutated(sample0810.subarray(2))), (payload) => {
        typedOnly(() => {
          const env = readTerminalEnvelope(payload);
          const m = codec.unpack(payload, env.messageOffset);
          for (const n of m.numbers()) m.get(n);
          codec.pack(m);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('BER-TLV', () => {
    const tlv = fromHex('9F2608AABBCCDDEEFF00119F2701809F101307010103A0A000010A010000000000F8C17A7B');
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)), mutated(tlv)), (b) => typedOnly(() => parseTlv(b))), { numRuns: RUNS });
  });

  it('caller ID: packets and modem lines', () => {
    const packet = fromHex(vectors().callerId[1].hex as string);
    fc.assert(
      fc.property(mutated(packet), fc.array(fc.string({ maxLength: 60 }), { maxLength: 8 }), (bytes, lines) => {
        typedOnly(() => parseCallerIdPacket(bytes.toString('hex')));
        const c = new CallerIdCollector();
        for (const l of lines) c.feed(l);
        c.take();
      }),
      { numRuns: RUNS },
    );
  });

  it('SZZT PIN pad frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), cutPoints, (bytes, cuts) => {
        const d = new SzztFrameDecoder();
        for (const chunk of splitAt(bytes, cuts)) d.push(chunk, (e) => e.type === 'error' && assert.ok(e.error instanceof NacbridgeError));
      }),
      { numRuns: RUNS },
    );
  });

  it('AT lines: garbage and modem tokens in command and data mode never throw, never leave a command hanging, never invent call bytes', async () => {
    // Random bytes alone would never spell CONNECT or NO CARRIER, so data mode would go untested.
    const tokens = ['\r\n', '\r', 'OK', 'ERROR', 'CONNECT 9600', 'NO CARRIER', 'RING', 'NMBR=02112345678', 'CIDM', 'AT', '+VCID: 1'];
    const piece = fc.oneof(
      fc.constantFrom(...tokens).map((t) => Buffer.from(t, 'latin1')),
      fc.uint8Array({ maxLength: 60 }).map((u) => Buffer.from(u)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 20 }), cutPoints, async (pieces, cuts) => {
        const port = new MemorySerialLine();
        const channel = new ModemChannel(port, new ManualClock(), 'fuzz');
        let dataBytes = 0;
        channel.on('unsolicited', (line) => assert.ok(!/[\r\n]/.test(line), 'an unsolicited line holds a line end'));
        channel.on('data', (chunk) => (dataBytes += chunk.length));
        let settled: 'resolved' | 'rejected' | null = null;
        const pending = channel.command('AT', 1000).then(
          () => (settled = 'resolved'),
          () => (settled = 'rejected'),
        );
        const garbage = Buffer.concat(pieces);
        for (const chunk of splitAt(garbage, cuts)) port.deliver(chunk);
        // The modem's own answer, on a line of its own: whatever came before, the command ends.
        const answer = Buffer.from('\r\nOK\r\n', 'latin1');
        port.deliver(answer);
        await settle(2);
        assert.equal(settled, 'resolved', 'the command was left waiting');
        assert.ok(dataBytes <= garbage.length + answer.length, `${dataBytes} call bytes from ${garbage.length + answer.length} received`);
        // A CONNECT in words, or a numeric one (ATV0: "1", "5", "10".."16") alone on a line.
        const numericConnect = garbage
          .toString('latin1')
          .split(/[\r\n]/)
          .some((l) => /^CONNECT\b/.test(NUMERIC_RESULTS[l.trim()] ?? ''));
        if (channel.mode === 'data') assert.ok(garbage.includes('CONNECT') || numericConnect, 'data mode without a CONNECT');
        channel.abort('done');
        await pending;
      }),
      { numRuns: RUNS },
    );
  });
});
