import { systemClock, type Clock } from '../clock';
import { NacbridgeError } from '../errors';
import { IdtechPinPad } from './idtech-driver';
import { listPinPadProfiles, loadPinPadProfile, type PinPadDriver, type PinPadProfile } from './profile';
import { SzztPinPad } from './szzt-driver';
import { VerifonePinPad } from './verifone-driver';

export interface ProbeFinding {
  family: PinPadDriver;
  model: string;
  firmware: string;
  serial: string;
  /** Profiles of that family, the best fit first. */
  profiles: string[];
}

export interface ProbeAttempt {
  family: PinPadDriver;
  /** What the family's device-information command got: an answer, or why not. */
  outcome: string;
}

const FAMILY_NAMES: Record<PinPadDriver, string> = { szzt: 'SZZT (ZT588 family)', verifone: 'VeriFone PINpad 1000 family', idtech: 'ID TECH SmartPIN family' };
export const PROBE_ORDER: readonly PinPadDriver[] = ['szzt', 'verifone', 'idtech'];

/**
 * Which pad is on this port: each family's device-information command in turn (SZZT "3",
 * VeriFone packet 06, ID TECH 78 46 01), all of them read-only, one attempt each with a short
 * timeout, the port closed between families. Stops at the first family that answers.
 */
export async function probePinPad(port: string, o: { timeoutMs?: number; clock?: Clock } = {}): Promise<{ found: ProbeFinding | null; attempts: ProbeAttempt[] }> {
  const clock = o.clock ?? systemClock;
  const attempts: ProbeAttempt[] = [];
  const byFamily = (family: PinPadDriver): PinPadProfile[] => listPinPadProfiles().map(loadPinPadProfile).filter((p) => p.driver === family);
  for (const family of PROBE_ORDER) {
    const candidates = byFamily(family);
    if (candidates.length === 0) continue;
    const profile: PinPadProfile = { ...candidates[0], name: `probe ${family}`, retries: 0, timeoutMs: o.timeoutMs ?? 500 };
    try {
      const info = await identify(family, port, profile, clock);
      const fits = candidates
        .map((p) => p.name)
        .sort((a, b) => Number(!info.model.toUpperCase().startsWith(a.toUpperCase())) - Number(!info.model.toUpperCase().startsWith(b.toUpperCase())));
      attempts.push({ family, outcome: 'answered' });
      return { found: { family, ...info, profiles: fits }, attempts };
    } catch (e) {
      if (!(e instanceof NacbridgeError)) throw e;
      if (e.code === 'SERIAL_OPEN') throw e;
      attempts.push({ family, outcome: e.code });
    }
  }
  return { found: null, attempts };
}

async function identify(family: PinPadDriver, port: string, profile: PinPadProfile, clock: Clock): Promise<{ model: string; firmware: string; serial: string }> {
  switch (family) {
    case 'szzt': {
      const pad = await SzztPinPad.open(port, profile, clock);
      try {
        const info = await pad.deviceInfo();
        return { model: info.model, firmware: `hw ${info.hardwareVersion} sw ${info.softwareVersion}`, serial: info.serial };
      } finally {
        await pad.close();
      }
    }
    case 'verifone': {
      const pad = await VerifonePinPad.open(port, profile, clock);
      try {
        const info = await pad.deviceInfo();
        return { model: FAMILY_NAMES.verifone, firmware: `${info.firmware} (${info.releaseDate})`, serial: info.serial };
      } finally {
        await pad.close();
      }
    }
    case 'idtech': {
      const pad = await IdtechPinPad.open(port, profile, { clock });
      try {
        const info = await pad.deviceInfo();
        return { model: info.model, firmware: info.firmware, serial: '' };
      } finally {
        await pad.close();
      }
    }
  }
}

export function familyName(family: PinPadDriver): string {
  return FAMILY_NAMES[family];
}
