import { closeSync, openSync, readSync } from 'node:fs';
import { NacbridgeError } from '../errors';

/** An input read from a file or stdin is larger than its cap: a typed error naming the cap. */
export class InputTooLarge extends NacbridgeError {
  constructor(what: string, cap: number) {
    super('INPUT_TOO_LARGE', `${what} is larger than ${cap} bytes, the most nacbridge reads for it`, { cap });
  }
}

/** Configuration files (NAC, simulator, sign-on): far larger than any real one. */
export const CONFIG_FILE_CAP = 1024 * 1024;

/**
 * Read at most `cap` bytes of `file`: one byte more is an InputTooLarge, found after reading
 * cap + 1 bytes however big the file (or endless the device: /dev/zero) is, so nothing is ever
 * read whole into memory first. A file that does not open or read is `unreadable(code)`.
 */
export function readFileCapped(file: string, cap: number, what: string, unreadable: (code: string) => Error): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw unreadable((e as NodeJS.ErrnoException).code ?? 'error');
  }
  try {
    const buffer = Buffer.alloc(cap + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        if (code === 'EAGAIN') continue;
        throw unreadable(code);
      }
      if (n === 0) break;
      length += n;
      if (length > cap) throw new InputTooLarge(what, cap);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
