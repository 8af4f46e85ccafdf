import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallerIdCollector, CallerIdError, parseCallerIdPacket, parseCallerIdText, parseDtmfCallerId } from '../../src/modem/caller-id';
import { vectors } from '../support/vectors';

describe('modem/caller-id', () => {
  for (const v of vectors().callerId) {
    it(`R-MDM-2: vector ${v.format} ${v.number ?? v.absent}`, () => {
      const parsed = v.hex ? parseCallerIdPacket(v.hex) : parseCallerIdText(v.text as string);
      assert.ok(parsed);
      assert.equal(parsed.number, v.number);
      assert.equal(parsed.date, v.date);
      assert.equal(parsed.time, v.time);
      if (v.name) assert.equal(parsed.name, v.name);
      if (v.absent) assert.equal(parsed.absent, v.absent);
    });
  }

  it('R-MDM-2: formatted lines without spaces and with other tags', () => {
    assert.equal(parseCallerIdText('DATE=1121\r\nTIME=1405\r\nNMBR=50582613\r\n')?.number, '50582613');
    assert.equal(parseCallerIdText('DDN_NMBR= 01050582613')?.number, '01050582613');
    assert.equal(parseCallerIdText('CALLER NUMBER: 50582613')?.number, '50582613');
    assert.equal(parseCallerIdText('NAME = ZHANG SAN\r\nNMBR = 50582613')?.name, 'ZHANG SAN');
  });

  it('R-MDM-2, R-DIAL-4: private (P) and unavailable (O) are distinct results, not a number', () => {
    assert.deepEqual(parseCallerIdText('NMBR = P'), { format: 'formatted', number: null, absent: 'private' });
    assert.deepEqual(parseCallerIdText('NMBR = O'), { format: 'formatted', number: null, absent: 'unavailable' });
    assert.equal(parseCallerIdText('RING\r\nRING'), null, 'no caller ID at all is null');
  });

  it('R-MDM-2: MESG carries a raw packet when NMBR is missing', () => {
    assert.equal(parseCallerIdText('MESG = 041230393330313232343630393535353132313251')?.number, '6095551212');
  });

  it('R-MDM-2: SDMF private/unavailable and MDMF reason-absent parameters', () => {
    const sdmf = (number: string) => {
      const body = Buffer.from('09301224' + number, 'latin1');
      const packet = Buffer.concat([Buffer.from([0x04, body.length]), body]);
      const sum = packet.reduce((s, b) => (s + b) & 0xff, 0);
      return Buffer.concat([packet, Buffer.from([(256 - sum) & 0xff])]).toString('hex');
    };
    assert.equal(parseCallerIdPacket(sdmf('P')).absent, 'private');
    assert.equal(parseCallerIdPacket(sdmf('O')).absent, 'unavailable');
    const mdmf = Buffer.from([0x80, 0x03, 0x04, 0x01, 0x50]); // reason absent: P, no checksum
    assert.deepEqual(parseCallerIdPacket(mdmf.toString('hex')), { format: 'mdmf', number: null, absent: 'private' });
  });

  it('R-MDM-2: a wrong checksum, a bad type or a short packet is a typed error', () => {
    const good = vectors().callerId[0].hex as string;
    const bad = good.slice(0, -2) + '52';
    assert.throws(() => parseCallerIdPacket(bad), (e: CallerIdError) => e.code === 'BAD_CALLER_ID_CHECKSUM');
    assert.throws(() => parseCallerIdPacket('0512AA'), (e: CallerIdError) => e.code === 'BAD_CALLER_ID');
    assert.throws(() => parseCallerIdPacket('04'), (e: CallerIdError) => e.code === 'BAD_CALLER_ID');
  });

  it('R-MDM-2: DTMF forms: A<digits>#, A<digits>C, D1# private, D3# unavailable', () => {
    assert.deepEqual(parseDtmfCallerId('A50582613#'), { format: 'dtmf', number: '50582613' });
    assert.deepEqual(parseDtmfCallerId('A01050582613C'), { format: 'dtmf', number: '01050582613' });
    assert.deepEqual(parseDtmfCallerId('D1#'), { format: 'dtmf', number: null, absent: 'private' });
    assert.deepEqual(parseDtmfCallerId('D3#'), { format: 'dtmf', number: null, absent: 'unavailable' });
    assert.equal(parseDtmfCallerId('ATA'), null);
  });

  it('the collector ignores non caller-ID lines and starts over after take()', () => {
    const c = new CallerIdCollector();
    assert.equal(c.feed('RING'), false);
    assert.equal(c.feed('NMBR = 50582613'), true);
    assert.equal(c.take()?.number, '50582613');
    assert.equal(c.take(), null);
  });

  it('random lines never crash the collector', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 80 }), { maxLength: 10 }), (lines) => {
        const c = new CallerIdCollector();
        for (const l of lines) c.feed(l);
        c.take();
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
        try {
          parseCallerIdPacket(Buffer.from(bytes).toString('hex'));
        } catch (e) {
          assert.ok(e instanceof CallerIdError);
        }
      }),
    );
  });
});
