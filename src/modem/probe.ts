import { systemClock, type Clock } from '../clock';
import type { SerialLine } from '../serial/port';
import { ModemChannel, ModemError } from './at-channel';
import { answerSyncVerdict, type SyncVerdict } from './capability';
import type { InitCommand, ModemProfile } from './profile';

/**
 * `nacbridge modem probe`: ask a modem who it is and which caller-ID, modulation, fast-connect
 * and V.80 commands it accepts, and write a starting profile for it.
 *
 * Safety: nothing sent can dial, answer or go online. The probe sends only AT, ATV1, ATE0,
 * ATI0..ATI7, the identity commands +GMI/+GMM/+GMR (a classic modem stops at the G and answers
 * ERROR), and +GCAP and the `=?` test queries only once the modem has shown it parses extended
 * commands (+GMI answered OK). A classic Hayes modem reads a query letter by
 * letter (`AT+VCID=?` is V0, C, I and a dial), so it is sent none. Every command has a timeout.
 */
export type ProbeGroup = 'basic' | 'identity' | 'caller-id' | 'modulation' | 'fast-connect' | 'v80';

export interface ProbeRow {
  command: string;
  group: ProbeGroup;
  /** OK, ERROR, another final result, "no answer", or "not sent". */
  result: string;
  /** The modem's answer lines, joined. */
  answer: string;
}

export interface ProbeResult {
  rows: ProbeRow[];
  /** The modem parses V.250 extended (+) commands. */
  extended: boolean;
  /** The modem was answering with numeric result codes (ATV0) when the probe began. */
  numeric: boolean;
  profile: ModemProfile;
  /** R-MDM-7: whether AT+ES=? and AT+ESA=? show V.80 synchronous access on answer (null: not asked, classic command set). */
  answerSync: SyncVerdict | null;
}

/** The `=?` queries, by group. None of them can dial or answer on a modem that parses extended commands. */
export const PROBE_QUERIES: readonly { command: string; group: ProbeGroup }[] = [
  { command: 'AT+VCID=?', group: 'caller-id' },
  { command: 'AT#CID=?', group: 'caller-id' },
  { command: 'AT%CCID=?', group: 'caller-id' },
  { command: 'AT+VRID=?', group: 'caller-id' },
  { command: 'AT+MS=?', group: 'modulation' },
  { command: 'AT+A8E=?', group: 'modulation' },
  { command: 'AT+PQC=?', group: 'fast-connect' },
  { command: 'AT+ES=?', group: 'v80' },
  { command: 'AT+ESA=?', group: 'v80' },
  { command: 'AT+ITF=?', group: 'v80' },
];

/** Whether a command could make a call, answer one or go online when read by any modem: A, D or O as a basic command. */
export function couldDialOrAnswer(command: string): boolean {
  const body = command.replace(/^AT/i, '');
  // Read as a classic modem would: punctuation skipped, every letter a command.
  return /[ADO]/i.test(body.replace(/[^A-Za-z]/g, ''));
}

export interface ProbeOptions {
  clock?: Clock;
  /** Per command (default 3000 ms). */
  timeoutMs?: number;
  /** The port as named, for the profile's description and whether it has control lines. */
  path: string;
}

export async function probeModem(port: SerialLine, options: ProbeOptions): Promise<ProbeResult> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 3000;
  const channel = new ModemChannel(port, clock, 'probe');
  const rows: ProbeRow[] = [];
  let extended = false;
  const ask = async (command: string, group: ProbeGroup): Promise<ProbeRow> => {
    // The guard behind the order below: letters a classic modem could take as a dial or an
    // answer go only to a modem known to parse extended commands.
    if (!extended && couldDialOrAnswer(command)) throw new ModemError('PROBE_UNSAFE', `the probe does not send ${command} to a modem that may read it as a dial or answer`);
    let row: ProbeRow;
    try {
      const result = await channel.command(command, timeoutMs);
      row = { command, group, result: result.final, answer: result.lines.join(' | ') };
    } catch {
      row = { command, group, result: 'no answer', answer: '' };
    }
    rows.push(row);
    return row;
  };
  try {
    const first = await ask('AT', 'basic');
    if (first.result === 'no answer') throw new ModemError('NO_MODEM', `${options.path}: no modem answers AT within ${timeoutMs} ms`);
    const numeric = channel.numericResults;
    await ask('ATV1', 'basic');
    await ask('ATE0', 'basic');
    for (let i = 0; i <= 7; i++) await ask(`ATI${i}`, 'identity');
    // +GMI first: G, M and I are no dial or answer on any modem; a classic one stops at G (ERROR).
    const gmi = await ask('AT+GMI', 'identity');
    extended = gmi.result === 'OK';
    const gmm = await ask('AT+GMM', 'identity');
    const gmr = await ask('AT+GMR', 'identity');
    if (extended) await ask('AT+GCAP', 'identity');
    else rows.push({ command: 'AT+GCAP', group: 'identity', result: 'not sent', answer: '+GMI refused: a classic modem might read the A of GCAP as an answer' });
    for (const { command, group } of PROBE_QUERIES) {
      if (!extended) {
        rows.push({ command, group, result: 'not sent', answer: 'classic command set: it would read each letter as a command (+VCID=? as V0, C, I and a dial)' });
        continue;
      }
      await ask(command, group);
    }
    const accepted = (command: string): ProbeRow | undefined => rows.find((r) => r.command === command && r.result === 'OK');
    const info = (row: ProbeRow): string => (row.result === 'OK' ? row.answer.replace(/^\+G\w+:\s*/, '') : '');
    const model = [info(gmi), info(gmm), info(gmr)].filter(Boolean).join(' ') || rows.find((r) => r.command === 'ATI3' && r.result === 'OK')?.answer || 'unknown modem';
    const init: InitCommand[] = ['ATV1', 'ATZ', 'ATE0V1Q0', 'ATS0=0', { command: 'AT&C1&D2', optional: true }];
    if (accepted('AT+VCID=?')) init.push('AT+VCID=1');
    else if (accepted('AT#CID=?')) init.push('AT#CID=1');
    else if (accepted('AT%CCID=?')) init.push('AT%CCID=1');
    if (/V22B/.test(accepted('AT+MS=?')?.answer ?? '')) init.push({ command: 'AT+MS=V22B', optional: true });
    const serialServer = /^tcp:\/\//.test(options.path);
    const profile: ModemProfile = {
      name: slug(info(gmm) || (extended ? 'probed-modem' : 'probed-hayes')),
      description: `probed on ${options.path}: ${model}; ${extended ? 'V.250 extended commands' : 'classic Hayes command set only'}`,
      init,
      answer: 'ATA',
      answerOnRing: 2,
      answerAfterCallerId: true,
      answerDelayMs: 200,
      fastConnects: [],
      hangup: serialServer ? 'escape' : 'dtr',
      controlLines: !serialServer,
      connectPattern: '^CONNECT',
      commandTimeoutSeconds: 3,
      answerTimeoutSeconds: 45,
      healthProbeSeconds: 60,
      ringTimeoutSeconds: 8,
      inactivitySeconds: 60,
      escapeGuardMs: 1000,
      dtrDropMs: 500,
      dcdPollMs: 500,
    };
    const queried = (command: string): { final: string; answer: string } => {
      const row = rows.find((r) => r.command === command);
      return { final: row?.result ?? 'not sent', answer: row?.answer ?? '' };
    };
    const answerSync = extended ? answerSyncVerdict(queried('AT+ES=?'), queried('AT+ESA=?')) : null;
    return { rows, extended, numeric, profile, answerSync };
  } finally {
    channel.abort('probe done');
    channel.detach();
  }
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'probed-modem'
  );
}

/** The probe as a table for people. */
export function probeTable(result: ProbeResult): string {
  const header = ['COMMAND', 'GROUP', 'RESULT', 'ANSWER'];
  const body = result.rows.map((r) => [r.command, r.group, r.result, r.answer]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const summary = [
    `command set: ${result.extended ? 'V.250 extended commands (+GMI answered)' : 'classic Hayes only (+GMI refused): no =? query sent'}`,
    `synchronous access on answer (SDLC terminals, framing sdlc): ${
      result.answerSync === null ? 'not asked (classic command set)' : `${result.answerSync.ok ? 'yes' : 'no'}: ${result.answerSync.why}`
    }`,
    `result codes: ${result.numeric ? 'numeric (ATV0) at first; ATV1 put it back to verbose' : 'verbose'}`,
    `starting profile: ${result.profile.name}: init ${result.profile.init.map((e) => (typeof e === 'string' ? e : `${e.command} (optional)`)).join(', ')}; hang-up ${result.profile.hangup}`,
  ];
  return [line(header), ...body.map(line), '', ...summary].join('\n') + '\n';
}
