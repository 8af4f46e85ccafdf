import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildDialMonitor, DEFAULT_DIAL_TAIL_HEX, parseDialTail } from '../../src/codec/dial-monitor';
import { fromHex, toHex } from '../../src/codec/hex';
import { decodeFrame, encodeFrame, terminalFromJson } from '../../src/cli/frame-json';
import { MessageCodec } from '../../src/iso8583/codec';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { runCli } from '../support/cli';
import { messageFor } from '../support/messages';
import { vectors } from '../support/vectors';

const codec = new MessageCodec(unionpayPos);
const signOn = vectors().decode[0];
const sale = vectors().mac[0];

describe('cli: nacbridge decode / encode', () => {
  it('R-FRAME-1, R-FRAME-3: decode prints the contract JSON with 62 hidden', async () => {
    const r = await runCli(['decode', '--hex', signOn.frame]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    const json = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(json), ['length', 'tpdu', 'dialMonitor', 'header', 'mti', 'fields']);
    assert.equal(json.length, 121);
    assert.equal(json.tpdu, signOn.tpdu);
    assert.equal(json.dialMonitor, null);
    assert.equal(json.header, signOn.header);
    assert.equal(json.mti, signOn.mti);
    assert.deepEqual(json.fields, { ...signOn.fields, 62: '***' });
    assert.ok(!r.stdout.includes(signOn.fields['62']));
  });

  it('decode reads hex from stdin with whitespace ignored; --reveal shows field 62', async () => {
    const spaced = signOn.frame.replace(/(.{16})/g, '$1 \n');
    const r = await runCli(['decode', '--reveal'], spaced);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout).fields, signOn.fields);
  });

  it('R-MSG-4: decode --reveal | encode returns the original bytes (0810 with --pad F, 0200 with pad 0)', async () => {
    for (const [frame, pad] of [
      [signOn.frame, 'F'],
      [sale.frame, '0'],
    ]) {
      const decoded = await runCli(['decode', '--reveal', '--hex', frame]);
      const encoded = await runCli(['encode', '--pad', pad], decoded.stdout);
      assert.equal(encoded.code, 0, encoded.stderr);
      assert.equal(encoded.stdout.trim(), frame);
    }
  });

  it('R-DIAL-1: a frame with a dial-monitor block shows ani/dnis without leading zeros and the tail', async () => {
    const payload = Buffer.concat([
      fromHex('6000030001'),
      buildDialMonitor({ ani: '50582613', dnis: '61651108', tail: parseDialTail(DEFAULT_DIAL_TAIL_HEX) }),
      fromHex('603100310000'),
      codec.pack({ mti: '0800', fields: { 11: '000001', 41: '12345678', 60: '00000001003' } }),
    ]);
    const r = await runCli(['decode', '--framing', 'none', '--hex', toHex(payload)]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(json.dialMonitor, { ani: '50582613', dnis: '61651108', tail: '580009490006000000220030' });
    const back = await runCli(['encode', '--framing', 'none'], r.stdout);
    assert.equal(back.stdout.trim(), toHex(payload));
  });

  it('R-FRAME-2: --framing ascii4 reads and writes four ASCII digits', async () => {
    const body = fromHex(signOn.frame).subarray(2);
    const ascii = Buffer.concat([Buffer.from(String(body.length).padStart(4, '0'), 'latin1'), body]);
    const r = await runCli(['decode', '--framing', 'ascii4', '--reveal', '--hex', toHex(ascii)]);
    assert.equal(r.code, 0, r.stderr);
    const back = await runCli(['encode', '--framing', 'ascii4', '--pad', 'F'], r.stdout);
    assert.equal(back.stdout.trim(), toHex(ascii));
  });

  it('malformed input: exit 2, nothing on stdout, one stderr line naming the problem, field and offset', async () => {
    const cut = signOn.frame.slice(0, -20);
    const relength = toHex(Buffer.from([0, cut.length / 2 - 2])) + cut.slice(4); // prefix agrees, field 62 runs short
    const r = await runCli(['decode', '--hex', relength]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /TRUNCATED.*field 62.*offset \d+/);
  });

  it('a prefix that disagrees with the frame, bad hex, or bad JSON exits 2', async () => {
    const mismatch = await runCli(['decode', '--hex', '0099' + signOn.frame.slice(4)]);
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /LENGTH_MISMATCH/);
    const hex = await runCli(['decode', '--hex', '00G1']);
    assert.equal(hex.code, 2);
    const json = await runCli(['encode'], '{not json');
    assert.equal(json.code, 2);
    assert.match(json.stderr, /BAD_JSON/);
    const masked = await runCli(['encode'], (await runCli(['decode', '--hex', signOn.frame])).stdout);
    assert.equal(masked.code, 2, 'a redacted decode cannot be re-encoded');
    assert.match(masked.stderr, /field 62/);
  });

  it('decode of hex without a length prefix (as a --trace file holds it) hints at --framing none (it said only LENGTH_OVER_MAX), and refuses starred bytes by name', async () => {
    const payload = signOn.frame.slice(4);
    const r = await runCli(['decode', '--hex', payload]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'nacbridge: LENGTH_OVER_MAX: frame length 24576 exceeds the maximum 2048; hex without a length prefix (as a --trace file holds it) decodes with --framing none (offset 0, length 24576)\n');
    const none = await runCli(['decode', '--framing', 'none', '--hex', payload]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).mti, '0810');
    const starred = await runCli(['decode', '--framing', 'none', '--hex', payload.slice(0, -96) + '*'.repeat(96)]);
    assert.equal(starred.code, 2);
    assert.match(starred.stderr, /^nacbridge: REDACTED: frame: '\*' at character \d+: the bytes a --trace file stars .* cannot be decoded/);
  });

  it('encode of what decode printed without --reveal names the redacted field and asks for decode --reveal (it said ODD_HEX)', async () => {
    const hidden = await runCli(['encode'], (await runCli(['decode', '--hex', signOn.frame])).stdout);
    assert.equal(hidden.code, 2);
    assert.equal(hidden.stdout, '');
    assert.equal(hidden.stderr, 'nacbridge: REDACTED: field 62 is hidden as "***" by decode; encode needs the JSON of `nacbridge decode --reveal` (field 62)\n');
    // As decode shows a PAN without --reveal: first 6 and last 4 digits.
    const withPan = JSON.parse((await runCli(['decode', '--reveal', '--hex', signOn.frame])).stdout);
    withPan.fields['2'] = '621214*********0012';
    const masked = await runCli(['encode'], JSON.stringify(withPan));
    assert.equal(masked.code, 2);
    assert.equal(masked.stderr, 'nacbridge: REDACTED: field 2 is masked by decode; encode needs the JSON of `nacbridge decode --reveal` (field 2)\n');
  });

  it('decode(encode(m)) == m through the CLI JSON layer for generated messages', () => {
    fc.assert(
      fc.property(messageFor(unionpayPos), fc.constantFrom<0 | 15>(0, 15), (message, pad) => {
        const terminal = { tpdu: { id: 0x60, destination: '0003', originator: '0001' }, dialMonitor: null, header: '603100310000', message };
        const frame = encodeFrame(codec, terminal, 'binary2', pad);
        if (frame.length - 2 > 2048) return; // beyond R-FRAME-1, refused by decode by design
        const json = decodeFrame(codec, frame, 'binary2', true);
        assert.deepEqual(encodeFrame(codec, terminalFromJson(codec, JSON.parse(JSON.stringify(json))), 'binary2', pad), frame);
      }),
      { numRuns: 200 },
    );
  });
});
