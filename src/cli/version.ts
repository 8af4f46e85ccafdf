import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NacbridgeError } from '../errors';

/**
 * The version in nacbridge's own package.json, found from the running file upwards: the package
 * root is three folders above dist/src/cli both in a checkout and in an installed package. A
 * package.json of another name on the way (a workspace around a checkout) is passed by.
 */
export function packageVersion(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    let text: string | null = null;
    try {
      text = readFileSync(path.join(dir, 'package.json'), 'utf8');
    } catch {
      // no package.json here: look further up
    }
    if (text !== null) {
      const manifest: unknown = JSON.parse(text);
      if (isManifest(manifest) && manifest.name === 'nacbridge') return manifest.version;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new NacbridgeError('HARDWARE_MISSING', `nacbridge's package.json not found above ${from}`);
    dir = up;
  }
}

function isManifest(value: unknown): value is { name: string; version: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { name, version } = value as Record<string, unknown>;
  return typeof name === 'string' && typeof version === 'string';
}
