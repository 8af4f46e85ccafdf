import { AsyncFrameDecoder, encodeAsyncFrame } from '../codec/async-frame';
import type { LineFraming, LineFramingContext } from './line-framing';

/**
 * Async POS framing on a dial line (R-MDM-6): STX, 2-byte BCD length, TPDU + data, ETX, LRC.
 * The terminal speaks when it likes; the NAC answers in the same framing.
 */
export function asyncFraming(context: LineFramingContext): LineFraming {
  const decoder = new AsyncFrameDecoder();
  const { events } = context;
  return {
    receive(chunk) {
      decoder.push(chunk, (e) => {
        switch (e.type) {
          case 'frame':
            events.frame(e.frame);
            break;
          case 'error':
            events.error(e.error);
            break;
          case 'discarded':
            events.discarded(e.bytes);
            break;
          case 'keepalive':
            break;
        }
      });
    },
    send: (payload) => context.write(encodeAsyncFrame(payload)),
    end() {
      const partial = decoder.reset();
      if (partial > 0) events.discarded(partial);
    },
  };
}
