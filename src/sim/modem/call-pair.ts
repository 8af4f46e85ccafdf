import { EventEmitter } from 'node:events';

/** One end of an in-memory telephone call: what one side writes, the other receives. */
export class CallEnd extends EventEmitter {
  peer: CallEnd | null = null;
  private closed = false;

  write(data: Uint8Array): boolean {
    const peer = this.peer;
    if (this.closed || peer === null) return false;
    const copy = Buffer.from(data);
    setImmediate(() => {
      if (!peer.closed) peer.emit('data', copy);
    });
    return true;
  }

  /**
   * Hang up: both ends see 'close', after what was written before the hang-up has arrived (a
   * frame sent just before hanging up reaches the other end, as on a telephone line).
   */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => {
      this.emit('close');
      this.peer?.end();
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }
}

/** A call between a POS terminal (pos) and a modem's line side (modem). */
export function callPair(): { pos: CallEnd; modem: CallEnd } {
  const pos = new CallEnd();
  const modem = new CallEnd();
  pos.peer = modem;
  modem.peer = pos;
  return { pos, modem };
}
