import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NacbridgeError } from '../../src/errors';
import { openSerialLine, type SerialLine } from '../../src/serial/port';
import { openPty, type Pty } from '../../src/serial/pty';
import { until } from '../support/wait';

describe('serial/pty: pseudo-terminals the project opens itself (no socat)', () => {
  let dir: string;
  let opened: (() => unknown)[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-pty-test-'));
  });
  afterEach(async () => {
    for (const close of opened.reverse()) await close();
    opened = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function ptyWithLine(): Promise<{ pty: Pty; line: SerialLine }> {
    const pty = await openPty({ link: { dir, name: 'dev' } });
    opened.push(() => pty.close());
    const line = await openSerialLine(pty.path, { controlLines: false });
    opened.push(() => line.close());
    return { pty, line };
  }

  it('R-MDM-6: every byte value 0x00..0xFF crosses unchanged both ways (no echo, no CR/LF or XON/XOFF handling)', async () => {
    const { pty, line } = await ptyWithLine();
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const atDevice: Buffer[] = [];
    const atLine: Buffer[] = [];
    pty.device.on('data', (chunk) => atDevice.push(chunk));
    line.on('data', (chunk) => atLine.push(chunk));
    line.write(everyByte);
    pty.device.write(everyByte);
    await until(() => Buffer.concat(atDevice).length >= 256 && Buffer.concat(atLine).length >= 256, 'both directions');
    assert.deepEqual(Buffer.concat(atDevice), everyByte, 'opener -> device');
    assert.deepEqual(Buffer.concat(atLine), everyByte, 'device -> opener');
  });

  it('the opener may close and open the path again (an unplug): the device side stays up', async () => {
    const { pty, line } = await ptyWithLine();
    await line.close();
    const again = await openSerialLine(pty.path, { controlLines: false });
    opened.push(() => again.close());
    const atDevice: Buffer[] = [];
    pty.device.on('data', (chunk) => atDevice.push(chunk));
    again.write(Buffer.from('ATZ\r'));
    await until(() => Buffer.concat(atDevice).toString('latin1') === 'ATZ\r', 'bytes after the reopen');
  });

  it('R-MDM-4: a pty has no DTR: setting it fails with a SerialError, as on a real pty', async () => {
    const pty = await openPty();
    opened.push(() => pty.close());
    const line = await openSerialLine(pty.path, { controlLines: true });
    opened.push(() => line.close());
    await assert.rejects(line.setDtr(false), (e: NacbridgeError) => e.code === 'SERIAL_IO' && /ioctl/i.test(e.message));
  });

  it('the link DIR/NAME points at the pty while it is open and is gone after close (twice is harmless)', async () => {
    const pty = await openPty({ link: { dir, name: 'line1' } });
    assert.equal(pty.path, path.join(dir, 'line1'));
    assert.ok(lstatSync(pty.path).isSymbolicLink());
    await pty.close();
    await pty.close();
    assert.equal(existsSync(pty.path), false);
  });

  it('a link that cannot be made fails with PTY_FAILED naming the path, and leaves no pty open', async () => {
    const missing = path.join(dir, 'no-such-dir');
    await assert.rejects(openPty({ link: { dir: missing, name: 'x' } }), (e: NacbridgeError) => e.code === 'PTY_FAILED' && e.message.includes(path.join(missing, 'x')));
  });
});
