import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root: the nearest folder above this file with a package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

/** ../shared beside the repository (override with NACBRIDGE_SHARED). */
export function sharedDir(): string {
  return process.env.NACBRIDGE_SHARED ?? path.resolve(repoRoot(), '..', 'shared');
}

export interface Vectors {
  kcv: { key: string; kcv: string; source: string }[];
  field62: {
    mode: string;
    tmk: string;
    field62: string;
    pinKey: string;
    pinKeyCheck: string;
    macKey: string;
    macKeyCheck: string;
  }[];
  mac: { algorithm: string; key: string; frame: string; field64Ascii: string }[];
  pinBlock: { format: number; pin: string; pan: string; clearBlock: string }[];
  asyncFrame: { hex: string; tpdu: string; data: string }[];
  callerId: {
    format: string;
    hex?: string;
    text?: string;
    date: string;
    time: string;
    number: string | null;
    name?: string;
    absent?: string;
  }[];
  dialMonitor: { ani: string; dnis: string; block: string }[];
  decode: { frame: string; tpdu: string; header: string; mti: string; fields: Record<string, string> }[];
}

let cached: Vectors | undefined;
export function vectors(): Vectors {
  cached ??= JSON.parse(readFileSync(path.join(sharedDir(), 'vectors', 'vectors.json'), 'utf8')) as Vectors;
  return cached;
}
