import { EventEmitter } from 'node:events';

/**
 * The POS side of an emulated call, for the modem emulator's ring(): records what reached the
 * caller (the caller's own modem's result codes included) and whether the call was ended.
 */
export class FakeCallSide extends EventEmitter {
  readonly sent: Buffer[] = [];
  ended = false;
  write(data: Uint8Array): boolean {
    this.sent.push(Buffer.from(data));
    return true;
  }
  end(): void {
    this.ended = true;
  }
  get text(): string {
    return Buffer.concat(this.sent).toString('latin1');
  }
  /** What the call carried: the text less the NO CARRIER the caller's own modem says once it ends. */
  get callText(): string {
    return this.text.replace(/\r\nNO CARRIER\r\n$/, '');
  }
}
