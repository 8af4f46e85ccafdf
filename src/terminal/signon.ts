import { connect, type Socket } from 'node:net';
import { z } from 'zod';
import { positiveSeconds } from '../config/durations';
import { systemClock, type Clock } from '../clock';
import { tpduFromHex } from '../codec/tpdu';
import { readCheckValues, type KeyLoadResult, type SlotMap } from '../crypto/key-loading';
import { planProofs, ProofError, type ProofCapabilities, type ProofMethod, type ProofPlan } from '../crypto/key-proof';
import type { KeyStore } from '../crypto/key-store';
import { SecretKey } from '../crypto/secret-key';
import { layoutFor, type WorkKeyType } from '../crypto/work-keys';
import { SoftwareKeyStore } from '../crypto/software-key-store';
import { NacbridgeError } from '../errors';
import { MessageCodec } from '../iso8583/codec';
import { unionpayPos } from '../iso8583/specs/unionpay-pos';
import { Link } from '../link/link';
import { LinkGroup } from '../link/link-group';
import { IdtechPinPad } from '../pinpad/idtech-driver';
import { loadPinPadProfile, type PinPadProfile } from '../pinpad/profile';
import { SzztPinPad } from '../pinpad/szzt-driver';
import { VerifonePinPad } from '../pinpad/verifone-driver';
import { asyncFrameChannel, binary2Channel } from './channels';
import { Terminal, terminalRoleKeys, type RequestChannel, type TransactionResult } from './terminal';

/** Capabilities of a profile that a bench may decline to trust as proof. */
const UNTRUSTABLE = ['checkValueOnLoad', 'readCheckValue', 'macOfZeroBlock'] as const;

/** `nacbridge signon` configuration: where the platform is, who the terminal is, which key holder. */
const endpoint = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict();
const slots = z.object({ pin: z.number().int().min(0), mac: z.number().int().min(0), track: z.number().int().min(0).optional() }).strict();

export const signonConfigSchema = z
  .object({
    platform: z.union([
      z.object({ links: z.array(endpoint).min(1), allowSingleLink: z.boolean().default(false), framing: z.enum(['binary2', 'ascii4']).default('binary2') }).strict(),
      z.object({ terminalListener: endpoint }).strict(),
      z.object({ dial: endpoint }).strict(),
    ]),
    terminal: z
      .object({
        terminalId: z.string().length(8, 'must be 8 characters'),
        merchantId: z.string().length(15, 'must be 15 characters'),
        keyMode: z.enum(['001', '003', '004']).default('003'),
        macAlgorithm: z.enum(['unionpay-ecb', 'x9.9', 'x9.19']).default('unionpay-ecb'),
        tpdu: z.string().regex(/^[0-9A-Fa-f]{10}$/, 'must be 10 hex digits').default('6000030000'),
        header: z.string().regex(/^[0-9A-Fa-f]{12}$/, 'must be 12 hex digits').default('603100310000'),
      })
      .strict(),
    keys: z.union([
      z
        .object({
          pinpad: z
            .object({
              port: z.string().min(1),
              profile: z.string().default('zt588'),
              masterIndex: z.number().int().min(0).max(255),
              slots,
              /** Proofs this bench has not confirmed on its device: never used to say PASS. */
              untrusted: z.array(z.enum(UNTRUSTABLE)).default([]),
              /** TR-31 pads (driver idtech): the TMK the host translates field 62's keys with. */
              tmkEnv: z.string().min(1).optional(),
            })
            .strict(),
        })
        .strict(),
      z.object({ software: z.object({ tmkEnv: z.string().min(1), slots }).strict() }).strict(),
    ]),
    /** For --then-sale: the card, and where its PIN comes from (never the command line). */
    card: z.object({ pan: z.string().regex(/^\d{13,19}$/, 'must be 13 to 19 digits'), pinEnv: z.string().min(1) }).strict().optional(),
    responseTimeoutSeconds: positiveSeconds.default(30),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!('pinpad' in c.keys)) return;
    const profile = (() => {
      try {
        return loadPinPadProfile(c.keys.pinpad.profile);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['keys', 'pinpad', 'profile'], message: (e as Error).message });
        return null;
      }
    })();
    const s = c.keys.pinpad.slots;
    // R-KEY-4: the key lengths of the key mode must be ones the pad is set up for, or MACs fail.
    if (profile) {
      for (const place of layoutFor(c.terminal.keyMode).keys) {
        if (!profile.keyLengths[place.type].includes(place.keyLength)) {
          ctx.addIssue({
            code: 'custom',
            path: ['terminal', 'keyMode'],
            message: `key mode ${c.terminal.keyMode} carries a ${place.keyLength}-byte ${place.type} key; ${profile.name} takes ${profile.keyLengths[place.type].join(' or ')} (R-KEY-4)`,
          });
        }
      }
    }
    if (profile?.driver === 'idtech' && c.keys.pinpad.tmkEnv === undefined) {
      ctx.addIssue({ code: 'custom', path: ['keys', 'pinpad', 'tmkEnv'], message: `${profile.name} takes TR-31 key blocks: give tmkEnv, the variable holding the TMK the host translates field 62's keys with` });
    }
    if (profile && !profile.pairs.some(([p, m]) => p === s.pin && m === s.mac)) {
      ctx.addIssue({ code: 'custom', path: ['keys', 'pinpad', 'slots'], message: `PIN slot ${s.pin} and MAC slot ${s.mac} are not a pair of ${profile.name} (R-KEY-3: ${profile.pairs.map((p) => p.join('-')).join(', ')})` });
    }
  });

export type SignonConfig = z.infer<typeof signonConfigSchema>;

export interface SignonOutcome {
  responseCode: string;
  keys: KeyLoadResult[];
  /** The proofs used, for the table's legend. */
  proofs: ProofMethod[];
  sale?: { responseCode: string; macOk: boolean };
  pass: boolean;
}

/** What the configured key holder can prove, less what the bench has not confirmed. */
export function proofCapabilities(config: SignonConfig): { device: string; caps: ProofCapabilities } {
  if (!('pinpad' in config.keys)) {
    // The software key store computes check values itself.
    return { device: 'the software key store', caps: { checkValueOnLoad: true, readCheckValue: true, macOfZeroBlock: true, pinEntry: true, mac: true, macAlgorithms: ['unionpay-ecb', 'x9.9', 'x9.19'] } };
  }
  const pad = config.keys.pinpad;
  const profile = loadPinPadProfile(pad.profile);
  const untrusted = new Set<string>(pad.untrusted);
  const s = profile.supports;
  return {
    device: `${profile.name} (profile)`,
    caps: {
      checkValueOnLoad: s.checkValueOnLoad && !untrusted.has('checkValueOnLoad'),
      readCheckValue: s.readCheckValue && !untrusted.has('readCheckValue'),
      macOfZeroBlock: s.macOfZeroBlock && s.mac && !untrusted.has('macOfZeroBlock'),
      pinEntry: s.pinEntry,
      mac: s.mac,
      macAlgorithms: profile.macAlgorithms,
    },
  };
}

/** The proof of every key this sign-on loads, or CANNOT_VERIFY before anything is opened. */
export function signonProofs(config: SignonConfig, sale: boolean): ProofPlan {
  const { device, caps } = proofCapabilities(config);
  const types = layoutFor(config.terminal.keyMode).keys.map((k) => k.type);
  return planProofs(caps, types, { device, sale, macAlgorithm: config.terminal.macAlgorithm });
}

interface KeyHolder {
  store: KeyStore;
  slots: SlotMap;
  masterIndex: number;
}

interface Opened extends KeyHolder {
  /** Opens the platform channel, after the key holder; close() closes it with the rest. */
  openPlatform(): Promise<RequestChannel>;
  close(): Promise<void>;
}

async function openSocket(e: { host: string; port: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(e, () => resolve(s));
    s.once('error', (err) => reject(new NacbridgeError('CONNECT', `cannot reach ${e.host}:${e.port}: ${err.message}`)));
  });
}

/**
 * The key holder, and the platform when asked for; whatever opened before a failure is closed
 * again. The key holder comes first: a PIN pad that does not answer must stop a sign-on before
 * any network traffic, or a real platform issues new work keys for nothing.
 */
async function open(config: SignonConfig, clock: Clock): Promise<Opened> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const holder = await openKeyHolder(config, clock, closers);
    return { ...holder, openPlatform: () => openPlatform(config, clock, closers), close: closeAll };
  } catch (e) {
    // A PIN pad that does not answer must not leave its port holding the process open.
    await closeAll();
    throw e;
  }
}

/** The PIN pad (checked: it must answer) or the software key store; pushes its closer. */
async function openKeyHolder(config: SignonConfig, clock: Clock, closers: (() => Promise<void>)[]): Promise<KeyHolder> {
  if ('pinpad' in config.keys) {
    const pad = config.keys.pinpad;
    const device = await openPinPad(pad.port, loadPinPadProfile(pad.profile), clock, pad.masterIndex, pad.tmkEnv);
    closers.push(() => device.close());
    await checkPinPad(device, pad.port);
    return { store: device, slots: pad.slots, masterIndex: pad.masterIndex };
  }
  const software = config.keys.software;
  const tmk = process.env[software.tmkEnv];
  if (!tmk) throw new NacbridgeError('NO_TMK', `environment variable ${software.tmkEnv} is not set`);
  const store = new SoftwareKeyStore();
  closers.push(() => store.close());
  await store.loadMasterKey(1, SecretKey.fromHex(tmk, 'TMK'));
  return { store, slots: software.slots, masterIndex: 1 };
}

/** The pad answers its device information command, or nothing else is done. */
async function checkPinPad(pad: PinPadDevice, port: string): Promise<void> {
  try {
    await pad.deviceInfo();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const code = e instanceof NacbridgeError ? e.code : 'PINPAD_CHECK';
    const context = e instanceof NacbridgeError ? e.context : { device: port };
    throw new NacbridgeError(code, `${why}; the PIN pad is checked first, and nothing was sent to the platform`, context);
  }
}

/** The platform: a link group, or one socket to a terminal listener or a modem simulator. */
async function openPlatform(config: SignonConfig, clock: Clock, closers: (() => Promise<void>)[]): Promise<RequestChannel> {
  const timeout = config.responseTimeoutSeconds * 1000;
  const p = config.platform;
  if ('links' in p) {
    const codec = new MessageCodec(unionpayPos);
    const links = p.links.map((l, i) => new Link({ name: `platform-${i + 1}`, host: l.host, port: l.port, framing: p.framing, clock }));
    const group = new LinkGroup({ name: 'platform', links, keys: terminalRoleKeys(codec), allowSingleLink: p.allowSingleLink, responseTimeoutMs: timeout, clock });
    group.start();
    closers.push(() => group.close());
    return group;
  }
  const socket = await openSocket('terminalListener' in p ? p.terminalListener : p.dial);
  socket.on('error', () => undefined);
  closers.push(async () => void socket.destroy());
  return 'terminalListener' in p ? binary2Channel(socket, timeout, clock) : asyncFrameChannel(socket, timeout, clock);
}

/** The card of --then-sale and its PIN from the environment; an error when either is missing. */
function saleCard(config: SignonConfig): { pan: string; pin: string } {
  if (!config.card) throw new NacbridgeError('NO_CARD', '--then-sale needs "card" in the config');
  const pin = process.env[config.card.pinEnv];
  if (!pin) throw new NacbridgeError('NO_PIN', `environment variable ${config.card.pinEnv} (card.pinEnv) is not set`);
  return { pan: config.card.pan, pin };
}

/** A PIN pad driver: a key store that can say what it is. */
type PinPadDevice = KeyStore & { deviceInfo(): Promise<unknown> };

/** The driver of a profile's family. */
async function openPinPad(port: string, profile: PinPadProfile, clock: Clock, masterIndex: number, tmkEnv: string | undefined): Promise<PinPadDevice> {
  switch (profile.driver) {
    case 'szzt':
      return SzztPinPad.open(port, profile, clock);
    case 'verifone':
      return VerifonePinPad.open(port, profile, clock);
    case 'idtech': {
      const tmk = tmkEnv === undefined ? undefined : process.env[tmkEnv];
      if (!tmk) throw new NacbridgeError('NO_TMK', `environment variable ${tmkEnv ?? '(tmkEnv)'} is not set`);
      return IdtechPinPad.open(port, profile, { clock, translation: new Map([[masterIndex, SecretKey.fromHex(tmk, 'TMK')]]) });
    }
  }
}

/** Read the check values already in the key holder (--verify-only). */
export async function verifyOnly(config: SignonConfig, clock: Clock = systemClock): Promise<{ type: string; slot: number; device: string }[]> {
  const { device, caps } = proofCapabilities(config);
  if (!caps.readCheckValue) throw new ProofError('CANNOT_VERIFY', `cannot verify on this device: ${device} cannot report the check value of a loaded key on request`);
  // The platform has no part in it: nothing is opened towards it.
  const o = await open(config, clock);
  try {
    // Only the key types this key mode loads (003 has no track key).
    const types = new Set(layoutFor(config.terminal.keyMode).keys.map((k) => k.type));
    const slots: SlotMap = Object.fromEntries(Object.entries(o.slots).filter(([type]) => types.has(type as WorkKeyType)));
    return await readCheckValues(o.store, slots);
  } finally {
    await o.close();
  }
}

/** Sign on, load and prove the keys; optionally prove them again with a sale. */
export async function signOn(config: SignonConfig, thenSale: string | null, clock: Clock = systemClock): Promise<SignonOutcome> {
  const proofs = signonProofs(config, thenSale !== null);
  // What the sale needs is checked before anything is opened, not after the keys are loaded.
  const card = thenSale === null ? null : saleCard(config);
  const o = await open(config, clock);
  try {
    const channel = await o.openPlatform();
    const t = config.terminal;
    const terminal = new Terminal({
      codec: new MessageCodec(unionpayPos),
      channel,
      store: o.store,
      terminalId: t.terminalId,
      merchantId: t.merchantId,
      keyMode: t.keyMode,
      macAlgorithm: t.macAlgorithm,
      masterIndex: o.masterIndex,
      slots: o.slots,
      proofs,
      tpdu: tpduFromHex(t.tpdu),
      header: t.header.toUpperCase(),
    });
    const result = await terminal.signOn();
    const used = [...new Set(result.keys.map((k) => k.proof))];
    const keysPass = result.responseCode === '00' && result.keys.length > 0 && result.keys.every((k) => k.pass || k.pending === true);
    const outcome: SignonOutcome = { responseCode: result.responseCode, keys: result.keys, proofs: used, pass: keysPass && result.keys.every((k) => k.pass) };
    if (thenSale !== null && card !== null && keysPass) {
      const sale: TransactionResult = await terminal.sale({ pan: card.pan }, thenSale, card.pin);
      outcome.sale = { responseCode: sale.responseCode, macOk: sale.macOk };
      const saleOk = sale.responseCode === '00' && sale.macOk;
      // A key whose only proof is this sale passes with it, and only with it.
      for (const k of result.keys) {
        if (k.pending !== true) continue;
        k.pending = false;
        k.pass = saleOk;
        if (!saleOk) await o.store.clearWorkKey(k.type, k.slot).catch(() => undefined);
      }
      outcome.pass = saleOk && result.keys.every((k) => k.pass);
    }
    return outcome;
  } finally {
    await o.close();
  }
}
