import { EventEmitter } from 'node:events';
import type { Clock } from '../../src/clock';
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

export interface MemorySerialOptions {
  /**
   * Model a UART at a baud rate on this clock: written bytes reach the modem one character time
   * apart (10 bits each), and drain() resolves when the last one has left.
   */
  baud?: { rate: number; clock: Clock };
  /** The port claims control lines but setting DTR fails, as on a pty or some USB adapters. */
  dtrFails?: boolean;
}

/** An in-memory serial port for state-machine tests; bytes cross on the next turn of the loop. */
export class MemorySerialLine extends EventEmitter<SerialLineEvents> implements SerialLine {
  readonly dte: MemoryDte = new MemoryDte(this);
  readonly dtrChanges: boolean[] = [];
  /** Called with every DTR change that took effect (wire it to an emulator's setDtr). */
  onDtr: ((on: boolean) => void) | null = null;
  /** Every write, as the port was handed it. */
  readonly written: Buffer[] = [];
  dcd = true;
  private open = true;
  /** When the last byte written so far leaves the UART, on the modelled clock. */
  private txDoneAt = 0;
  private drainWaiters: (() => void)[] = [];
  private inFlight = 0;

  constructor(
    readonly path = 'memory',
    readonly hasControlLines = false,
    private readonly options: MemorySerialOptions = {},
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
    this.written.push(copy);
    const baud = this.options.baud;
    if (!baud) {
      setImmediate(() => this.dte.emit('data', copy));
      return;
    }
    // One character time each, after whatever is still going out.
    const charMs = 10_000 / baud.rate;
    const start = Math.max(baud.clock.now(), this.txDoneAt);
    this.txDoneAt = start + charMs * copy.length;
    this.inFlight++;
    baud.clock.setTimeout(() => {
      this.dte.emit('data', copy);
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
    }, this.txDoneAt - baud.clock.now());
  }

  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  async setDtr(on: boolean): Promise<void> {
    if (!this.hasControlLines) throw new SerialError('CONTROL_LINES_UNAVAILABLE', 'no control lines');
    if (this.options.dtrFails) throw new SerialError('SERIAL_IO', `${this.path}: Inappropriate ioctl for device, cannot set`);
    this.dtrChanges.push(on);
    this.onDtr?.(on);
  }

  async getDcd(): Promise<boolean> {
    if (!this.hasControlLines) throw new SerialError('CONTROL_LINES_UNAVAILABLE', 'no control lines');
    if (this.options.dtrFails) throw new SerialError('SERIAL_IO', `${this.path}: Inappropriate ioctl for device, cannot get`);
    return this.dcd;
  }

  /** Open again after close() (the same device, as a reopen of its path finds it); counted. */
  reopen(): this {
    if (!this.open) this.reopens++;
    this.open = true;
    return this;
  }

  reopens = 0;

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
