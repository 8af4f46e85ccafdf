/**
 * npm run test:hardware: checks against real devices named in the environment. Not part of
 * npm test. What is not named is skipped, and said so.
 *
 *   NACBRIDGE_PINPAD=/dev/ttyUSB1  [NACBRIDGE_PINPAD_PROFILE=zt588]  [NACBRIDGE_PINPAD_MASTER_INDEX=1]
 *   NACBRIDGE_MODEM=/dev/ttyUSB0   [NACBRIDGE_MODEM_PROFILE=generic]
 *
 * PIN pad: device information, and the check values of loaded keys where the device reports them.
 * Modem: every init command of the profile answers OK (R-MDM-5), then an AT health probe.
 */
import { systemClock } from '../src/clock';
import { ModemChannel } from '../src/modem/at-channel';
import { initStep, loadModemProfile } from '../src/modem/profile';
import { probePinPad } from '../src/pinpad/probe';
import { loadPinPadProfile } from '../src/pinpad/profile';
import { SzztPinPad } from '../src/pinpad/szzt-driver';
import { PinPadError } from '../src/pinpad/szzt-link';
import { openSerialLine, type SerialLine } from '../src/serial/port';

type Outcome = 'passed' | 'failed' | 'skipped';
const results: [string, Outcome, string][] = [];

async function checkPinPad(): Promise<void> {
  const port = process.env.NACBRIDGE_PINPAD;
  if (!port) {
    results.push(['PIN pad', 'skipped', 'NACBRIDGE_PINPAD is not set (a serial path or tcp://host:port)']);
    return;
  }
  const profile = loadPinPadProfile(process.env.NACBRIDGE_PINPAD_PROFILE ?? 'zt588');
  if (profile.driver !== 'szzt') {
    // Other families: their read-only device information, through the probe.
    try {
      const { found, attempts } = await probePinPad(port, { timeoutMs: profile.timeoutMs });
      if (found && found.family === profile.driver) results.push(['PIN pad device information', 'passed', `${found.model} firmware ${found.firmware} ${found.serial}`.trim()]);
      else results.push(['PIN pad device information', 'failed', found ? `a ${found.family} pad answered, the profile is ${profile.driver}` : attempts.map((a) => `${a.family} ${a.outcome}`).join(', ')]);
    } catch (e) {
      results.push(['PIN pad', 'failed', (e as Error).message]);
    }
    return;
  }
  let pad: SzztPinPad;
  try {
    pad = await SzztPinPad.open(port, profile);
  } catch (e) {
    results.push(['PIN pad', 'failed', (e as Error).message]);
    return;
  }
  try {
    const info = await pad.deviceInfo();
    results.push(['PIN pad device information', 'passed', `${info.model} hw ${info.hardwareVersion} sw ${info.softwareVersion} serial ${info.serial}`]);
    if (profile.supports.readCheckValue) {
      for (const slot of [0, 4]) {
        try {
          const check = await pad.checkValue(slot < 4 ? 'pin' : 'mac', slot);
          results.push([`PIN pad slot ${slot} check value`, 'passed', check.toString('hex').toUpperCase()]);
        } catch (e) {
          const empty = e instanceof PinPadError && e.code === 'PINPAD_E4';
          results.push([`PIN pad slot ${slot} check value`, empty ? 'skipped' : 'failed', empty ? 'slot empty (no key loaded)' : (e as Error).message]);
        }
      }
    } else {
      results.push(['PIN pad check values', 'skipped', `profile ${profile.name} has no check-value read; run nacbridge signon to prove a load`]);
    }
  } catch (e) {
    results.push(['PIN pad', 'failed', (e as Error).message]);
  } finally {
    await pad.close();
  }
}

async function checkModem(): Promise<void> {
  const path = process.env.NACBRIDGE_MODEM;
  if (!path) {
    results.push(['modem', 'skipped', 'NACBRIDGE_MODEM is not set (a serial path or tcp://host:port)']);
    return;
  }
  const profile = loadModemProfile(process.env.NACBRIDGE_MODEM_PROFILE ?? 'generic');
  let port: SerialLine;
  try {
    port = await openSerialLine(path, { controlLines: profile.controlLines });
  } catch (e) {
    results.push(['modem', 'failed', (e as Error).message]);
    return;
  }
  const channel = new ModemChannel(port, systemClock, 'hardware check');
  try {
    for (const { command, optional } of [...profile.init.map(initStep), { command: 'AT', optional: false }]) {
      const r = await channel.command(command, profile.commandTimeoutSeconds * 1000);
      const outcome = r.final === 'OK' ? 'passed' : optional && r.final === 'ERROR' ? 'skipped' : 'failed';
      results.push([`modem ${command}`, outcome, optional && outcome === 'skipped' ? 'ERROR (optional command)' : r.final]);
    }
    if (profile.controlLines) {
      try {
        results.push(['modem DCD', 'passed', `DCD ${(await port.getDcd()) ? 'high' : 'low'} (on-hook: expect low)`]);
      } catch (e) {
        results.push(['modem DCD', 'failed', (e as Error).message]);
      }
    }
  } catch (e) {
    results.push(['modem', 'failed', (e as Error).message]);
  } finally {
    await port.close();
  }
}

async function main(): Promise<void> {
  await checkPinPad();
  await checkModem();
  for (const [what, outcome, detail] of results) console.log(`${outcome.toUpperCase().padEnd(8)} ${what}: ${detail}`);
  const counted = (o: Outcome) => results.filter((r) => r[1] === o).length;
  console.log(`${counted('passed')} passed, ${counted('failed')} failed, ${counted('skipped')} skipped`);
  process.exitCode = counted('failed') > 0 ? 1 : 0;
}

void main();
