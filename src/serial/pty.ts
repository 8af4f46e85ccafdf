import { closeSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { ReadStream } from 'node:tty';
import { NacbridgeError } from '../errors';

/**
 * A pseudo-terminal opened by this process: an emulated device (modem, PIN pad) reads and writes
 * its master side, and anything that opens serial ports (the NAC, `signon`, minicom) opens its
 * slave path like a real /dev/ttyUSB0. No system tool is needed: openpty(3) comes from the
 * prebuilt binary of @lydell/node-pty (linux x64/arm64, macOS), so a machine with only Node.js
 * has ptys. Like every pty, it has no DTR or DCD: the opener sees `Inappropriate ioctl`.
 */
export interface Pty {
  /** What the other side opens: DIR/NAME when a name was given, else /dev/pts/N. */
  readonly path: string;
  /** The device's side of the pty: the bytes the opener writes arrive here, and what it writes goes to the opener. */
  readonly device: PtyDevice;
  /** Close both sides and remove the link; safe to call twice. */
  close(): Promise<void>;
}

export interface PtyDevice {
  write(data: Uint8Array): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export interface OpenPtyOptions {
  /** Make a symlink DIR/NAME to the slave, so a config can name a stable path. */
  link?: { dir: string; name: string };
}

/** The one native call we need: openpty(3), as the prebuilt binary exposes it. */
interface OpenPtyBinding {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

let binding: OpenPtyBinding | Error | undefined;

/** The binding, loaded on first use so that a machine without a prebuilt binary fails only here. */
function openPtyBinding(): OpenPtyBinding {
  if (binding === undefined) {
    try {
      // The package's own loader picks @lydell/node-pty-<platform>-<arch>. Its public open() would
      // also start reading the slave side, stealing the bytes meant for whoever opens the path.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { requireBinary } = require('@lydell/node-pty/requireBinary') as { requireBinary(file: string): unknown };
      const native = requireBinary('pty.node') as Partial<OpenPtyBinding>;
      binding = typeof native.open === 'function' ? (native as OpenPtyBinding) : new Error('its binary has no open()');
    } catch (e) {
      binding = e instanceof Error ? e : new Error(String(e));
    }
  }
  if (binding instanceof Error) {
    const first = binding.message.split('\n')[0];
    throw new NacbridgeError('PTY_UNAVAILABLE', `no pseudo-terminals on ${process.platform}-${process.arch}: @lydell/node-pty could not be loaded (${first})`);
  }
  return binding;
}

export async function openPty(options: OpenPtyOptions = {}): Promise<Pty> {
  const native = openPtyBinding();
  let fds: { master: number; slave: number; pty: string };
  try {
    fds = native.open(80, 24);
  } catch (e) {
    throw new NacbridgeError('PTY_FAILED', `openpty failed: ${(e as Error).message}`);
  }
  const master = new ReadStream(fds.master);
  // Raw binary on the pty: no echo of what the device writes, no CR/LF translation of its input,
  // no XON/XOFF, no signals. Whoever opens the slave as a serial port sets its own raw mode too
  // (serialport clears output post-processing), so every byte value crosses unchanged both ways.
  master.setRawMode(true);
  // The slave fd stays open, unread, for the pty's life: the opener may close and reopen its path
  // (an unplug, a NAC restart), and the master must not see a hang-up (EIO) in between.
  const slaveFd = fds.slave;
  const device: PtyDevice = {
    write: (data) => {
      if (!master.destroyed) master.write(data);
    },
    on: (event, listener) => master.on(event, listener),
  };
  // A read error (EIO when the last opener went away on some kernels) ends the device side quietly.
  master.on('error', () => undefined);

  let linkPath: string | null = null;
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      if (linkPath !== null) rmSync(linkPath, { force: true });
      const finish = (): void => {
        try {
          closeSync(slaveFd);
        } catch {
          // already closed
        }
        resolve();
      };
      if (master.closed) return finish();
      master.once('close', finish);
      master.destroy();
    }));

  if (options.link) {
    const target = path.join(options.link.dir, options.link.name);
    try {
      symlinkSync(fds.pty, target);
      linkPath = target;
    } catch (e) {
      await close();
      throw new NacbridgeError('PTY_FAILED', `cannot link ${target} to ${fds.pty}: ${(e as Error).message}`);
    }
  }
  return { path: linkPath ?? fds.pty, device, close };
}
