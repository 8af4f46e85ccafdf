import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import * as path from 'node:path';

/** A serial port as `nacbridge ports` shows it. */
export interface PortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  byId?: string;
}

/** Where sysfs and the device nodes are mounted; tests point these at a fixture tree. */
export interface SysRoots {
  sys: string;
  dev: string;
}

const SERIAL_TTY = /^tty(USB|ACM|S|AMA|XRUSB)\d+$/;

function readAttribute(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** tty name -> its /dev/serial/by-id link (udev makes these for USB serial devices). */
function byIdLinks(dev: string): Map<string, string> {
  const links = new Map<string, string>();
  const dir = path.join(dev, 'serial', 'by-id');
  try {
    for (const link of readdirSync(dir)) links.set(path.basename(readlinkSync(path.join(dir, link))), `/dev/serial/by-id/${link}`);
  } catch {
    // no USB serial devices, or no udev
  }
  return links;
}

/**
 * The USB device a tty hangs off: the first ancestor of its device with an idVendor. usb-serial
 * ttys (ttyUSB) sit two levels below it (port, interface), cdc-acm ttys (ttyACM) one. The walk
 * must follow the device link physically: sysfs paths are symlinks, so `device/..` spelled as a
 * string and normalised would name the class directory, not the device's parent.
 */
function usbDeviceOf(ttyDir: string): string | undefined {
  let dir: string;
  try {
    dir = realpathSync(path.join(ttyDir, 'device'));
  } catch {
    return undefined;
  }
  for (let up = 0; up < 3; up++) {
    dir = path.dirname(dir);
    if (readAttribute(path.join(dir, 'idVendor')) !== undefined) return dir;
  }
  return undefined;
}

/**
 * Serial ports from sysfs, for where udev's tools are missing (containers, minimal field boxes):
 * USB serial adapters and modems with their USB identity, and on-board UARTs that have a chip
 * behind them (the 8250 driver registers ttyS0-3 whether or not; an absent one has type 0).
 */
export function listSerialPortsFromSys(roots: SysRoots = { sys: '/sys', dev: '/dev' }): PortInfo[] {
  let names: string[];
  try {
    names = readdirSync(path.join(roots.sys, 'class', 'tty')).filter((n) => SERIAL_TTY.test(n));
  } catch {
    return [];
  }
  const byId = byIdLinks(roots.dev);
  const ports: PortInfo[] = [];
  for (const name of names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const ttyDir = path.join(roots.sys, 'class', 'tty', name);
    if (readAttribute(path.join(ttyDir, 'device', 'uevent')) === undefined) continue; // no hardware device behind it
    const usb = usbDeviceOf(ttyDir);
    if (!usb) {
      const uartType = readAttribute(path.join(ttyDir, 'type'));
      if (uartType !== undefined && Number(uartType) === 0) continue;
    }
    const attribute = (file: string) => (usb ? readAttribute(path.join(usb, file)) : undefined);
    ports.push({
      path: `/dev/${name}`,
      vendorId: attribute('idVendor'),
      productId: attribute('idProduct'),
      manufacturer: attribute('manufacturer'),
      serialNumber: attribute('serial'),
      byId: byId.get(name),
    });
  }
  return ports;
}
