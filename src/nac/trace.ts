import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { readTerminalEnvelope } from '../codec/terminal-envelope';
import { NacbridgeError } from '../errors';
import type { MessageCodec } from '../iso8583/codec';
import { fieldsToJson } from '../iso8583/json';
import { redactedHex } from '../iso8583/redact';
import type { Relay } from './relay';

/**
 * --trace FILE: one JSON line per relayed frame (time, line, host, direction, hex and decoded),
 * redacted like every other output: no PAN beyond 6 + 4, no tracks, PIN blocks, ICC data or keys.
 * A file that cannot be opened is an error before the NAC starts; a write that fails later (a
 * full disk) stops the trace, never the relay, and the records it could not write are counted.
 */
export class FrameTrace {
  private readonly out: Writable;
  private written = 0;
  private lost = 0;
  private failure: Error | null = null;

  /**
   * Opens (appends to) `file`, or writes to standard output for '-'; a path that cannot be written
   * is a TRACE_UNWRITABLE error.
   */
  static async open(file: string, relay: Relay, codec: MessageCodec, onFailure: (error: Error) => void = () => undefined): Promise<FrameTrace> {
    if (file === '-') return new FrameTrace(process.stdout, false, relay, codec, onFailure);
    const handle = await open(file, 'a').catch((e: Error) => {
      throw new NacbridgeError('TRACE_UNWRITABLE', `cannot open the trace file: ${e.message}`, { file });
    });
    return new FrameTrace(handle.createWriteStream(), true, relay, codec, onFailure);
  }

  private constructor(
    out: Writable,
    /** A file the trace opened, closed with it; standard output is only flushed. */
    private readonly owned: boolean,
    relay: Relay,
    private readonly codec: MessageCodec,
    onFailure: (error: Error) => void,
  ) {
    this.out = out;
    out.on('error', (error) => {
      if (this.failure !== null) return;
      this.failure = error;
      onFailure(error);
    });
    relay.on('request', (session, host, payload) => this.write(session.label, host, 'to-host', payload));
    relay.on('response', (session, host, payload) => this.write(session.label, host, 'to-terminal', payload));
  }

  /** Whether the file failed: the trace is incomplete. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Records handed to the file, and records lost because the file had failed. */
  get counts(): { written: number; lost: number } {
    return { written: this.written, lost: this.lost };
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
    if (this.failure !== null) {
      this.lost++;
      return;
    }
    const record = { time: new Date().toISOString(), line, host, direction, length: payload.length, hex: redactedHex(this.codec, payload), decoded: this.decoded(payload) };
    this.out.write(JSON.stringify(record) + '\n');
    this.written++;
  }

  /** Flushes and closes the file; resolves on 'close', which also comes after a failure. */
  close(): Promise<void> {
    if (this.out.closed || this.out.destroyed) return Promise.resolve();
    if (!this.owned) return new Promise((resolve) => this.out.write('', () => resolve()));
    return new Promise((resolve) => {
      this.out.once('close', () => resolve());
      this.out.end();
    });
  }
}
