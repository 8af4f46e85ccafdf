import assert from 'node:assert/strict';
import { SoftwareKeyStore } from '../../src/crypto/software-key-store';
import { MessageCodec } from '../../src/iso8583/codec';
import type { IsoMessage } from '../../src/iso8583/message';
import { unionpayPos } from '../../src/iso8583/specs/unionpay-pos';
import { buildTerminalMessage, readTerminalMessage } from '../../src/iso8583/terminal-message';
import { Terminal, TerminalError, type RequestChannel } from '../../src/terminal/terminal';

const codec = new MessageCodec(unionpayPos);
const TPDU = { id: 0x60, destination: '0003', originator: '0001' };

/** A channel that answers every request with what `answer` makes of it. */
function answering(answer: (request: IsoMessage) => void): RequestChannel {
  return {
    async request(payload) {
      const { message } = readTerminalMessage(codec, payload, 0, payload.length);
      answer(message);
      return buildTerminalMessage(codec, { tpdu: { ...TPDU, destination: '0001', originator: '0003' }, dialMonitor: null, header: '603100310000', message });
    },
  };
}

function terminal(channel: RequestChannel): Terminal {
  return new Terminal({
    codec,
    channel,
    store: new SoftwareKeyStore(),
    terminalId: '12345678',
    merchantId: '123456789012345',
    keyMode: '003',
    macAlgorithm: 'unionpay-ecb',
    masterIndex: 1,
    slots: { pin: 0, mac: 4, track: 2 },
    tpdu: TPDU,
    header: '603100310000',
  });
}

describe('terminal role: what it takes for an answer', () => {
  it('R-MSG-3, R-MSG-8: the answer to an 0800 echo test is an 0810 with its STAN and terminal ID', async () => {
    const result = await terminal(
      answering((m) => {
        m.mti = '0810';
        m.set(39, '00');
      }),
    ).echo();
    assert.equal(result.responseCode, '00');
    assert.equal(result.response.getString(11), result.stan);
  });

  /** [the rule held, if one, what came back, how it was made, what the error says]. */
  const refused: [string, string, (m: IsoMessage) => void, RegExp][] = [
    ['R-MSG-3: ', 'its own MTI echoed back (0800)', () => undefined, /a 0800 came back for a 0800/],
    ['R-MSG-3: ', 'an answer of another class (0210)', (m) => (m.mti = '0210'), /a 0210 came back for a 0800/],
    ['R-MSG-8: ', 'another STAN', (m) => ((m.mti = '0810'), m.set(11, '999999')), /carries STAN 999999, the 0800 had 000001/],
    ['', 'another terminal ID', (m) => ((m.mti = '0810'), m.set(41, '87654321')), /carries terminal ID 87654321/],
  ];
  for (const [rule, what, change, message] of refused) {
    it(`${rule}a frame with ${what} is refused (RESPONSE_MISMATCH), as a POS refuses it`, async () => {
      await assert.rejects(terminal(answering(change)).echo(), (e: unknown) => e instanceof TerminalError && e.code === 'RESPONSE_MISMATCH' && message.test(e.message));
    });
  }
});
