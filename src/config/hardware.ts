import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { NacbridgeError } from '../errors';

/**
 * hardware/<kind> (device profiles), found from the running file upwards: it sits beside src/ in
 * the source tree and beside dist/ when built, and ships with the package.
 */
export function hardwareDir(kind: 'modems' | 'pinpads'): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'hardware', kind);
    try {
      readdirSync(candidate);
      return candidate;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new NacbridgeError('HARDWARE_MISSING', `hardware/${kind} not found`);
}

/** Profile names in hardware/<kind>: the JSON files' base names, sorted. */
export function listProfiles(kind: 'modems' | 'pinpads'): string[] {
  return readdirSync(hardwareDir(kind))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

/** The file of a named profile; the name must be a plain file name. */
export function profileFile(kind: 'modems' | 'pinpads', name: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new NacbridgeError('NO_PROFILE', `profile name ${JSON.stringify(name)} is not a profile file name`);
  return path.join(hardwareDir(kind), `${name}.json`);
}
