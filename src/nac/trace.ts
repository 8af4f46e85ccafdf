import { createWriteStream, type WriteStream } from 'node:fs';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import type { MessageCodec } from '../iso8583/codec';
import { fieldsToJson } from '../iso8583/json';
import { redactedHex } from '../iso8583/redact';
import type { Relay } from './relay';

/**
 * --trace FILE: one JSON line per relayed frame (time, line, host, direction, hex and decoded),
 * redacted like every other output: no PAN beyond 6 + 4, no tracks, PIN blocks, ICC data or keys.
 */
export class FrameTrace {
  private readonly out: WriteStream;

  constructor(file: string, relay: Relay, private readonly codec: MessageCodec) {
    this.out = createWriteStream(file, { flags: 'a' });
    relay.on('request', (session, host, payload) => this.write(session.label, host, 'to-host', payload));
    relay.on('response', (session, host, payload) => this.write(session.label, host, 'to-terminal', payload));
  }

  private decoded(payload: Buffer): unknown {
    try {
      const envelope = readTerminalEnvelope(payload);
      const m = this.codec.unpack(payload, envelope.messageOffset, payload.length, { copy: false });
      return {
        tpdu: { destination: envelope.tpdu.destination, originator: envelope.tpdu.originator },
        dialMonitor: envelope.dialMonitor ? { ani: envelope.dialMonitor.ani, dnis: envelope.dialMonitor.dnis } : null,
        mti: m.mti,
        fields: fieldsToJson(this.codec, m, false),
      };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  private write(line: string, host: string, direction: 'to-host' | 'to-terminal', payload: Buffer): void {
    const record = { time: new Date().toISOString(), line, host, direction, length: payload.length, hex: redactedHex(this.codec, payload), decoded: this.decoded(payload) };
    this.out.write(JSON.stringify(record) + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
