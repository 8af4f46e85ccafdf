import { NacbridgeError } from '../errors';
import type { MacAlgorithm } from './mac';
import type { WorkKeyType } from './work-keys';

/**
 * How a key load is proven (issue 27): nothing is PASS without one of these, best first.
 *  - check-value-on-load: the holder's answer to the load carries the check value of what it
 *    decrypted; compared with field 62's (R-KEY-2).
 *  - check-value-read: the holder reports the check value of a loaded key on request.
 *  - mac-of-zero-block: a device operation the host can check: the holder's MAC of one block of
 *    zeros (ISO 9797-1 algorithm 1 or 3) under the key is E_K(0), i.e. the check value.
 *  - pin-entry-sale: a sale with a test card whose PIN is typed on the pad; the platform verifies
 *    the PIN block and the MAC, and the host the response's MAC. Proves the PIN and MAC keys only.
 */
export type ProofMethod = 'check-value-on-load' | 'check-value-read' | 'mac-of-zero-block' | 'pin-entry-sale';
export const PROOF_METHODS: readonly ProofMethod[] = ['check-value-on-load', 'check-value-read', 'mac-of-zero-block', 'pin-entry-sale'];

export const PROOF_DESCRIPTIONS: Readonly<Record<ProofMethod, string>> = {
  'check-value-on-load': 'the check value the key holder reported when it loaded the key',
  'check-value-read': 'the check value the key holder reported for the loaded key on request',
  'mac-of-zero-block': "the key holder's MAC of one zero block under the key (equal to its check value)",
  'pin-entry-sale': 'a sale with a PIN typed on the pad, verified by the platform (PIN block and MAC) and by the host (response MAC)',
};

export type ProofPlan = Partial<Record<WorkKeyType, ProofMethod>>;

/** What a key holder can do that proves a load (a profile's `supports`, less what a bench has not confirmed). */
export interface ProofCapabilities {
  checkValueOnLoad: boolean;
  readCheckValue: boolean;
  macOfZeroBlock: boolean;
  pinEntry: boolean;
  mac: boolean;
  macAlgorithms: readonly MacAlgorithm[];
}

export class ProofError extends NacbridgeError {}

export interface PlanOptions {
  /** For errors: "zt588 (profile)". */
  device: string;
  /** A sale will follow the load (`signon --then-sale`). */
  sale: boolean;
  /** The platform's MAC algorithm: a sale needs the pad to compute it. */
  macAlgorithm: MacAlgorithm;
}

/**
 * The proof for every key of a load, or a ProofError CANNOT_VERIFY naming what is missing. Decided
 * before anything is sent: a device that cannot prove a load is not loaded.
 */
export function planProofs(caps: ProofCapabilities, types: readonly WorkKeyType[], o: PlanOptions): ProofPlan {
  const plan: ProofPlan = {};
  const saleWorks = caps.pinEntry && caps.mac && caps.macAlgorithms.includes(o.macAlgorithm);
  for (const type of types) {
    if (caps.checkValueOnLoad) plan[type] = 'check-value-on-load';
    else if (caps.readCheckValue) plan[type] = 'check-value-read';
    else if (caps.macOfZeroBlock) plan[type] = 'mac-of-zero-block';
    else if (saleWorks && (type === 'pin' || type === 'mac')) {
      if (!o.sale) {
        throw new ProofError(
          'CANNOT_VERIFY',
          `cannot verify on this device without a sale: ${o.device} reports no check value and cannot MAC a known block; run signon with --then-sale AMOUNT and a test card whose PIN is typed on the pad`,
          { device: o.device },
        );
      }
      plan[type] = 'pin-entry-sale';
    } else {
      const why = !caps.pinEntry || !caps.mac ? 'it reports no check value, cannot MAC a known block, and cannot do both PIN entry and MAC for a sale' : type === 'track' ? 'a sale proves only the PIN and MAC keys' : `it cannot compute the platform's ${o.macAlgorithm} MAC for a sale`;
      throw new ProofError('CANNOT_VERIFY', `cannot verify on this device: ${o.device} offers no proof for the ${type} key (${why})`, { device: o.device, key: type });
    }
  }
  return plan;
}
