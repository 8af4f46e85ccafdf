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

/** test/vectors/vectors.json in this repository: every vector with its source and how it was confirmed. */
export function vectorsFile(): string {
  return path.join(repoRoot(), 'test', 'vectors', 'vectors.json');
}

/** Where a vector came from and what confirmed it (test/vectors/README.md). */
export interface Provenance {
  source: string;
  confirmed: string;
}

export interface Vectors {
  kcv: ({ key: string; kcv: string } & Provenance)[];
  field62: ({
    mode: string;
    tmk: string;
    field62: string;
    pinKey: string;
    pinKeyCheck: string;
    macKey: string;
    macKeyCheck: string;
  } & Provenance)[];
  mac: ({ algorithm: string; key: string; frame: string; field64Ascii: string } & Provenance)[];
  pinBlock: ({ format: number; pin: string; pan: string; clearBlock: string } & Provenance)[];
  asyncFrame: ({ hex: string; tpdu: string; data: string } & Provenance)[];
  callerId: ({
    format: string;
    hex?: string;
    text?: string;
    date: string;
    time: string;
    number: string | null;
    name?: string;
    absent?: string;
  } & Provenance)[];
  dialMonitor: ({ ani: string; dnis: string; block: string } & Provenance)[];
  decode: ({ frame: string; tpdu: string; header: string; mti: string; fields: Record<string, string> } & Provenance)[];
}

let cached: Vectors | undefined;
export function vectors(): Vectors {
  cached ??= JSON.parse(readFileSync(vectorsFile(), 'utf8')) as Vectors;
  return cached;
}
