import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listSerialPortsFromSys } from '../../src/serial/sys-ports';

/**
 * A sysfs and /dev fixture laid out as Linux lays them out, symlinks included: the class entry
 * links into the device tree, and each tty's `device` links to its parent device.
 */
function fixture(root: string): void {
  const files = (dir: string, attributes: Record<string, string>) => {
    mkdirSync(dir, { recursive: true });
    for (const [name, value] of Object.entries(attributes)) writeFileSync(path.join(dir, name), `${value}\n`);
  };
  const tty = (name: string, deviceDir: string, classDir: string, deviceLink: string, attributes: Record<string, string> = {}) => {
    files(path.join(root, 'sys/devices', deviceDir), { uevent: 'DRIVER=x' });
    files(path.join(root, 'sys/devices', classDir), { uevent: `DEVNAME=${name}`, ...attributes });
    symlinkSync(deviceLink, path.join(root, 'sys/devices', classDir, 'device'));
    symlinkSync(path.join('../../devices', classDir), path.join(root, 'sys/class/tty', name));
  };
  mkdirSync(path.join(root, 'sys/class/tty'), { recursive: true });
  const hub = 'pci0000:00/0000:00:14.0/usb1';
  // An FTDI adapter (usb-serial): tty -> port device -> interface -> USB device.
  files(path.join(root, 'sys/devices', hub, '1-2'), { idVendor: '0403', idProduct: '6001', manufacturer: 'FTDI', serial: 'A50285BI' });
  files(path.join(root, 'sys/devices', hub, '1-2/1-2:1.0'), { bInterfaceNumber: '00' });
  tty('ttyUSB0', `${hub}/1-2/1-2:1.0/ttyUSB0`, `${hub}/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0`, '../../../ttyUSB0');
  // A USB modem (cdc-acm): tty -> interface -> USB device.
  files(path.join(root, 'sys/devices', hub, '1-3'), { idVendor: '0572', idProduct: '1329', manufacturer: 'Conexant' });
  tty('ttyACM0', `${hub}/1-3/1-3:1.0`, `${hub}/1-3/1-3:1.0/tty/ttyACM0`, '../../../1-3:1.0');
  // An on-board 16550A, and a ttyS the 8250 driver registered with no UART behind it.
  tty('ttyS0', 'pnp0/00:00/00:00:0.0', 'pnp0/00:00/00:00:0.0/tty/ttyS0', '../../../00:00:0.0', { type: '4' });
  tty('ttyS1', 'platform/serial8250', 'platform/serial8250/tty/ttyS1', '../../../serial8250', { type: '0' });
  // A virtual console: not a serial port by name.
  files(path.join(root, 'sys/devices/virtual/tty/tty1'), { uevent: 'DEVNAME=tty1' });
  symlinkSync('../../devices/virtual/tty/tty1', path.join(root, 'sys/class/tty/tty1'));
  mkdirSync(path.join(root, 'dev/serial/by-id'), { recursive: true });
  symlinkSync('../../ttyUSB0', path.join(root, 'dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
}

describe('serial: ports from sysfs (nacbridge ports without udevadm)', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'nacbridge-sysfs-'));
    fixture(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('finds USB identities by walking up the device links, keeps real on-board UARTs, drops empty ttyS slots', () => {
    const ports = listSerialPortsFromSys({ sys: path.join(root, 'sys'), dev: path.join(root, 'dev') });
    assert.deepEqual(JSON.parse(JSON.stringify(ports)), [
      { path: '/dev/ttyACM0', vendorId: '0572', productId: '1329', manufacturer: 'Conexant' },
      { path: '/dev/ttyS0' },
      {
        path: '/dev/ttyUSB0',
        vendorId: '0403',
        productId: '6001',
        manufacturer: 'FTDI',
        serialNumber: 'A50285BI',
        byId: '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0',
      },
    ]);
  });

  it('a machine without sysfs has no ports rather than an error', () => {
    assert.deepEqual(listSerialPortsFromSys({ sys: path.join(root, 'nothing'), dev: path.join(root, 'nothing') }), []);
  });
});
