import { toHex } from '../codec/hex';
import { NacbridgeError } from '../errors';
import type { ProofMethod, ProofPlan } from './key-proof';
import type { KeyStore } from './key-store';
import { splitField62, type WorkKeyLayout, type WorkKeyType } from './work-keys';

/**
 * Load the work keys of a sign-on response into a key store without decrypting them on the host
 * (R-KEY-3), and prove each load by comparing the holder's check value with field 62's (R-KEY-2).
 * A key whose check fails is cleared again: it is never left active.
 */
export type SlotMap = Partial<Record<WorkKeyType, number>>;

export interface KeyLoadResult {
  type: WorkKeyType;
  slot: number;
  /** Check value from field 62, uppercase hex. */
  expected: string;
  /** Check value the key holder reported, uppercase hex ("" when the load itself failed). */
  device: string;
  pass: boolean;
  /** What proved the load (or was to prove it). */
  proof: ProofMethod;
  /** The proof is a sale still to come (pin-entry-sale): not PASS until the platform approved it. */
  pending?: boolean;
  /** Why a load failed (device error), when it did. */
  error?: string;
}

const ZERO_BLOCK = Buffer.alloc(8);

/** Compare the common prefix: holders report 3, 4 or 8 bytes of check value. */
export function checkValuesMatch(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length);
  if (n < 3) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `proofs` says how each key's load is proven (see key-proof.ts); by default the check value the
 * holder answers the load with. A key with no result to compare never passes.
 */
export async function loadWorkKeys(
  store: KeyStore,
  field62: Uint8Array,
  layout: WorkKeyLayout,
  slots: SlotMap,
  masterIndex: number,
  proofs: ProofPlan = {},
): Promise<KeyLoadResult[]> {
  const results: KeyLoadResult[] = [];
  for (const key of splitField62(field62, layout)) {
    const slot = slots[key.type];
    if (slot === undefined) throw new NacbridgeError('NO_SLOT', `no slot configured for the ${key.type} key`, { key: key.type });
    const expected = toHex(key.expectedCheck);
    const proof = proofs[key.type] ?? 'check-value-on-load';
    try {
      const reported = await store.loadWorkKey({ type: key.type, slot, masterIndex, encrypted: key.encrypted });
      if (proof === 'pin-entry-sale') {
        results.push({ type: key.type, slot, expected, device: '', pass: false, proof, pending: true });
        continue;
      }
      const device =
        proof === 'check-value-on-load'
          ? reported
          : proof === 'check-value-read'
            ? await store.checkValue(key.type, slot)
            : (await store.mac({ slot, algorithm: key.encrypted.length === 8 ? 'x9.9' : 'x9.19', data: ZERO_BLOCK })).subarray(0, key.expectedCheck.length);
      const pass = checkValuesMatch(device, key.expectedCheck);
      if (!pass) await store.clearWorkKey(key.type, slot);
      results.push({ type: key.type, slot, expected, device: toHex(device), pass, proof });
    } catch (e) {
      await store.clearWorkKey(key.type, slot).catch(() => undefined);
      if (!(e instanceof NacbridgeError)) throw e;
      results.push({ type: key.type, slot, expected, device: '', pass: false, proof, error: e.describe() });
    }
  }
  return results;
}

/** Read back what a holder has in its slots (sign-on --verify-only). */
export async function readCheckValues(store: KeyStore, slots: SlotMap): Promise<{ type: WorkKeyType; slot: number; device: string }[]> {
  const out: { type: WorkKeyType; slot: number; device: string }[] = [];
  for (const [type, slot] of Object.entries(slots) as [WorkKeyType, number][]) {
    out.push({ type, slot, device: toHex(await store.checkValue(type, slot)) });
  }
  return out;
}
