import { EventEmitter } from 'node:events';
import type { SerialLine, SerialLineEvents } from '../../src/serial/port';
import { SerialError } from '../../src/serial/port';

/** The far end of a MemorySerialLine: what a modem (emulator) reads and writes. */
export class MemoryDte extends EventEmitter {
  constructor(private readonly line: MemorySerialLine) {
    super();
  }
  write(data: Uint8Array): void {
    const copy = Buffer.from(data);
    setImmediate(() => this.line.deliver(copy));
  }
}

/** An in-memory serial port for state-machine tests; bytes cross on the next turn of the loop. */
export class MemorySerialLine extends EventEmitter<SerialLineEvents> implements SerialLine {
  readonly dte: MemoryDte = new MemoryDte(this);
  readonly dtrChanges: boolean[] = [];
  dcd = true;
  private open = true;

  constructor(
    readonly path = 'memory',
    readonly hasControlLines = false,
  ) {
    super();
  }

  get isOpen(): boolean {
    return this.open;
  }

  deliver(chunk: Buffer): void {
    if (this.open) this.emit('data', chunk);
  }

  write(data: Uint8Array): void {
    const copy = Buffer.from(data);
    setImmediate(() => this.dte.emit('data', copy));
  }

  async setDtr(on: boolean): Promise<void> {
    if (!this.hasControlLines) throw new SerialError('CONTROL_LINES_UNAVAILABLE', 'no control lines');
    this.dtrChanges.push(on);
  }

  async getDcd(): Promise<boolean> {
    if (!this.hasControlLines) throw new SerialError('CONTROL_LINES_UNAVAILABLE', 'no control lines');
    return this.dcd;
  }

  /** The device went away (unplugged). */
  unplug(): void {
    this.open = false;
    this.emit('close', 'unplugged');
  }

  async close(): Promise<void> {
    this.open = false;
  }
}

/** Let pending I/O (setImmediate hops) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
