/**
 * npm run bench:mac: the three MAC algorithms over the realistic 0200 sale's MAC input
 * (samples.ts; R-MSG-9: MTI through field 60), paired (measure.ts) against the MACs as they were
 * before the key schedule was kept (issue 23 item 4): on node:crypto, the UnionPay ECB MAC
 * through a kept des-ede3-ecb context (two update() calls), X9.9 with a new des-ede3-cbc
 * context per MAC, X9.19 with new contexts for K1 and K2 per MAC (five in all). Both sides are
 * checked to give the same MAC before anything is timed. The keys are test keys; none is printed.
 *
 * Targets (issue 23): X9.19 <= 10 us, UnionPay ECB <= 2 us, per MAC of the sale.
 */
import { Buffer } from 'node:buffer';
import { toHex } from '../../src/codec/hex';
import { BLOCK, EcbEngine, encryptCbc } from '../../src/crypto/des';
import { computeMac, MAC_ALGORITHMS, type MacAlgorithm } from '../../src/crypto/mac';
import { macInput } from '../../src/crypto/message-security';
import { SecretKey } from '../../src/crypto/secret-key';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import { formatPaired, loadNote, paired, targetLine, type Paired } from './measure';
import { codec, SALE_MAC_KEY_HEX, salePayload } from './samples';

const KEYS: Record<MacAlgorithm, string> = { 'unionpay-ecb': SALE_MAC_KEY_HEX, 'x9.9': SALE_MAC_KEY_HEX, 'x9.19': '0123456789ABCDEFFEDCBA9876543210' };

function zeroPadded(data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.max(BLOCK, Math.ceil(data.length / BLOCK) * BLOCK));
  out.set(data);
  return out;
}

function hexExpand(block: Uint8Array): Buffer {
  return Buffer.from(toHex(block), 'latin1');
}

/** The code before the change, on node:crypto; `bytes` is the clear key (bench only). */
function before(algorithm: MacAlgorithm, bytes: Buffer): (data: Uint8Array) => Buffer {
  switch (algorithm) {
    case 'unionpay-ecb': {
      const engine = new EcbEngine(bytes); // the old SecretKey kept this one
      return (data) => {
        const x = Buffer.alloc(BLOCK);
        const padded = zeroPadded(data);
        for (let i = 0; i < padded.length; i++) x[i % BLOCK] ^= padded[i];
        const expanded = hexExpand(x);
        const first = engine.encrypt(expanded.subarray(0, 8));
        for (let j = 0; j < BLOCK; j++) first[j] ^= expanded[8 + j];
        return hexExpand(engine.encrypt(first)).subarray(0, 8);
      };
    }
    case 'x9.9':
      return (data) => {
        const cbc = encryptCbc(bytes, zeroPadded(data));
        return cbc.subarray(cbc.length - BLOCK);
      };
    case 'x9.19':
      return (data) => {
        // key.part(0), key.part(1): new keys, so new contexts, per MAC
        const k1 = new EcbEngine(bytes.subarray(0, 8));
        const k2 = new EcbEngine(bytes.subarray(8, 16));
        const cbc = encryptCbc(bytes.subarray(0, 8), zeroPadded(data));
        const mac = k1.encrypt(k2.decrypt(cbc.subarray(cbc.length - BLOCK)));
        k1.destroy();
        k2.destroy();
        return mac;
      };
  }
}

function main(): void {
  const input = macInput(codec, readTerminalMessage(codec, salePayload()).message);
  console.log(`bench:mac  node ${process.version}, one core, ${loadNote()}`);
  console.log(`MAC of the realistic 0200 sale's MAC input (${input.length} bytes); paired rounds, A = now (key schedule kept by the key), B = before (node:crypto)\n`);
  const results = new Map<MacAlgorithm, Paired>();
  for (const algorithm of MAC_ALGORITHMS) {
    const key = SecretKey.fromHex(KEYS[algorithm]);
    const bytes = Buffer.from(KEYS[algorithm], 'hex');
    const old = before(algorithm, bytes);
    if (!computeMac(algorithm, key, input).equals(old(input))) throw new Error(`${algorithm}: the two sides differ`);
    const result = paired(
      { name: `MAC ${algorithm}, now`, op: () => computeMac(algorithm, key, input), batch: 200 },
      { name: `MAC ${algorithm}, before`, op: () => old(input), batch: 50 },
    );
    console.log(formatPaired(result, 'speed-up, now / before') + '\n');
    results.set(algorithm, result);
    key.destroy();
    bytes.fill(0);
  }
  // Targets read CPU time per MAC (what one core spends; the wall figure is printed beside it).
  const us = (r: Paired | undefined): number => (r === undefined ? NaN : r.a.cpuNsPerOp / 1000);
  const wall = (r: Paired | undefined): string => (r === undefined ? 'n/a' : (r.a.nsPerOp / 1000).toFixed(2));
  const x919 = us(results.get('x9.19'));
  const ecb = us(results.get('unionpay-ecb'));
  console.log(targetLine('X9.19 MAC of the sale', `${x919.toFixed(2)} us CPU (${wall(results.get('x9.19'))} us wall)`, '<= 10 us', x919 <= 10));
  console.log(targetLine('UnionPay ECB MAC of the sale', `${ecb.toFixed(2)} us CPU (${wall(results.get('unionpay-ecb'))} us wall)`, '<= 2 us', ecb <= 2));
}

main();
