import { SecretKey } from '../../src/crypto/secret-key';
import { serveSerialSide, type SerialSideSpec } from '../serial-side';
import { PinPadEmulator, type PinPadFault } from './emulator';

/** nacbridge sim pinpad: the emulated pad on a pty or a TCP port (raw serial server). */
export interface PinPadSimOptions {
  serial: SerialSideSpec;
  masterIndex: number;
  master: SecretKey;
  typedPin?: string;
  faults?: PinPadFault[];
}

export interface PinPadSim {
  path: string;
  close(): Promise<void>;
}

export async function startPinPadSim(o: PinPadSimOptions): Promise<PinPadSim> {
  let pad: PinPadEmulator | null = null;
  const served = await serveSerialSide(o.serial, (side) => {
    // One pad: a new connection is its cable plugged in again, and its keys stay.
    if (pad !== null) {
      pad.attach(side);
      return;
    }
    pad = new PinPadEmulator(side, { typedPin: o.typedPin });
    pad.holdMasterKey(o.masterIndex, o.master);
    for (const f of o.faults ?? []) pad.inject(f);
  });
  return {
    path: served.path,
    async close() {
      (pad as PinPadEmulator | null)?.close();
      await served.close();
    },
  };
}
