import { SecretKey } from '../../crypto/secret-key';
import { serveSerialSide, type ByteSide, type SerialSideSpec } from '../serial-side';
import { PinPadEmulator, type PinPadFault } from './emulator';
import { IdtechEmulator, type IdtechFault } from './idtech-emulator';
import { VerifoneEmulator, type VerifoneFault } from './verifone-emulator';

/** Which family's personality the emulated pad has. */
export type PinPadFamily = 'szzt' | 'verifone' | 'idtech';
export const PINPAD_FAMILIES: readonly PinPadFamily[] = ['szzt', 'verifone', 'idtech'];

/** nacbridge sim pinpad: the emulated pad on a pty or a TCP port (raw serial server). */
export interface PinPadSimOptions {
  serial: SerialSideSpec;
  family?: PinPadFamily;
  masterIndex: number;
  master: SecretKey;
  /** idtech: the key block protection key its master key slots are loaded under. */
  kbpk?: SecretKey;
  typedPin?: string;
  /** Faults by family; kinds a family does not know are refused by the CLI before this. */
  faults?: (PinPadFault | VerifoneFault | IdtechFault)[];
}

export interface PinPadSim {
  path: string;
  close(): Promise<void>;
}

interface Emulated {
  attach(side: ByteSide): void;
  close(): void;
}

function create(o: PinPadSimOptions, side: ByteSide): Emulated {
  switch (o.family ?? 'szzt') {
    case 'szzt': {
      const pad = new PinPadEmulator(side, { typedPin: o.typedPin });
      pad.holdMasterKey(o.masterIndex, o.master);
      for (const f of o.faults ?? []) pad.inject(f as PinPadFault);
      return pad;
    }
    case 'verifone': {
      const pad = new VerifoneEmulator(side, { typedPin: o.typedPin });
      pad.holdMasterKey(o.masterIndex, o.master);
      for (const f of o.faults ?? []) pad.inject(f as VerifoneFault);
      return pad;
    }
    case 'idtech': {
      const pad = new IdtechEmulator(side, { typedPin: o.typedPin });
      pad.holdMasterKey(o.masterIndex, o.master);
      if (o.kbpk) pad.holdKbpk(o.kbpk);
      for (const f of o.faults ?? []) pad.inject(f as IdtechFault);
      return pad;
    }
  }
}

export async function startPinPadSim(o: PinPadSimOptions): Promise<PinPadSim> {
  let pad: Emulated | null = null;
  const served = await serveSerialSide(o.serial, (side) => {
    // One pad: a new connection is its cable plugged in again, and its keys stay.
    if (pad !== null) {
      pad.attach(side);
      return;
    }
    pad = create(o, side);
  });
  return {
    path: served.path,
    async close() {
      (pad as Emulated | null)?.close();
      await served.close();
    },
  };
}
