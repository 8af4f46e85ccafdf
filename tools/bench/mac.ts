/**
 * npm run bench:mac: the three MAC algorithms over the realistic 0200 sale's MAC input
 * (samples.ts; R-MSG-9: MTI through field 60). Everything runs on node:crypto (3DES; single DES
 * as 3DES with K1 = K2 = K3). The keys are test keys; none is printed. Every side is checked to
 * give the same MAC before anything is timed.
 *
 * 1. now / before, paired (measure.ts): the MACs as they are (each key keeps its contexts for its
 *    life; one update() per CBC-MAC) against the MACs as they were on node:crypto before: the
 *    UnionPay ECB MAC through a kept des-ede3-ecb context (two update() calls), X9.9 with a new
 *    des-ede3-cbc context per MAC, X9.19 with new contexts for K1 and K2 per MAC (five in all).
 * 2. The ways that were not taken, paired against the one kept: the UnionPay MAC's two
 *    encryptions as two ECB update() calls; X9.9 and X9.19 block by block on a kept ECB context
 *    with the chaining XOR in JS; X9.19 with a new des-ede3-cbc context per MAC and its last
 *    step as D K2 then E K1 on kept contexts.
 * 3. The floor: one update() of one block on a kept context (the least any node:crypto call
 *    costs), and one update() of the sale's CBC blocks under single DES as K1 K1 K1 (the DES
 *    work X9.19 cannot avoid).
 *
 * Targets (issue 23): X9.19 <= 10 us, UnionPay ECB <= 2 us, per MAC of the sale.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv } from 'node:crypto';
import { toHex } from '../../src/codec/hex';
import { BLOCK, EcbEngine, encryptCbc, tripleLengthKey } from '../../src/crypto/des';
import { computeMac, MAC_ALGORITHMS, type MacAlgorithm } from '../../src/crypto/mac';
import { macInput } from '../../src/crypto/message-security';
import { SecretKey } from '../../src/crypto/secret-key';
import { readTerminalMessage } from '../../src/iso8583/terminal-message';
import { formatPaired, formatRate, loadNote, measureOne, paired, targetLine, type Paired } from './measure';
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

function unionpayFold(data: Uint8Array): Buffer {
  const x = Buffer.alloc(BLOCK);
  const padded = zeroPadded(data);
  for (let i = 0; i < padded.length; i++) x[i % BLOCK] ^= padded[i];
  return hexExpand(x);
}

const HEX_ASCII = Buffer.from('0123456789ABCDEF', 'latin1');

/** The fold and hex expansion as src/crypto/mac.ts does them, so only the encryption calls differ. */
function foldExpanded(data: Uint8Array): Buffer {
  let hi = 0;
  let lo = 0;
  const whole = data.length - (data.length % BLOCK);
  for (let i = 0; i < whole; i += BLOCK) {
    hi ^= (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
    lo ^= (data[i + 4] << 24) | (data[i + 5] << 16) | (data[i + 6] << 8) | data[i + 7];
  }
  for (let i = whole; i < data.length; i++) {
    const shift = 24 - 8 * ((i - whole) & 3);
    if (i - whole < 4) hi ^= data[i] << shift;
    else lo ^= data[i] << shift;
  }
  const out = Buffer.allocUnsafe(16);
  for (let k = 0; k < 8; k++) {
    out[k] = HEX_ASCII[(hi >>> (28 - 4 * k)) & 15];
    out[8 + k] = HEX_ASCII[(lo >>> (28 - 4 * k)) & 15];
  }
  return out;
}

/** CBC-MAC block by block: one ECB update() per block on a kept context, the XOR in JS. */
function cbcByBlocks(engine: EcbEngine, padded: Buffer, blocks: number): Buffer {
  let chain: Buffer = Buffer.alloc(BLOCK);
  for (let b = 0; b < blocks; b++) {
    for (let j = 0; j < BLOCK; j++) chain[j] ^= padded[b * BLOCK + j];
    chain = engine.encrypt(chain);
  }
  return chain;
}

/** The code before this change, on node:crypto; `bytes` is the clear key (bench only). */
function before(algorithm: MacAlgorithm, bytes: Buffer): (data: Uint8Array) => Buffer {
  switch (algorithm) {
    case 'unionpay-ecb': {
      const engine = new EcbEngine(bytes); // the old SecretKey kept this one
      return (data) => {
        const expanded = unionpayFold(data);
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

interface Alternative {
  algorithm: MacAlgorithm;
  name: string;
  op: (data: Uint8Array) => Buffer;
}

/** The ways not taken, each on kept contexts where it can keep them. */
function alternatives(): Alternative[] {
  const ecbBytes = Buffer.from(SALE_MAC_KEY_HEX, 'hex');
  const x919Bytes = Buffer.from(KEYS['x9.19'], 'hex');
  const ecb = new EcbEngine(ecbBytes);
  const k1 = new EcbEngine(x919Bytes.subarray(0, 8));
  const k2 = new EcbEngine(x919Bytes.subarray(8, 16));
  const k1Triple = tripleLengthKey(x919Bytes.subarray(0, 8));
  ecbBytes.fill(0);
  x919Bytes.fill(0);
  return [
    {
      algorithm: 'unionpay-ecb',
      name: 'two ECB update() calls, XOR in JS',
      op: (data) => {
        const expanded = foldExpanded(data);
        const first = ecb.encrypt(expanded.subarray(0, 8));
        for (let j = 0; j < BLOCK; j++) first[j] ^= expanded[8 + j];
        const last = ecb.encrypt(first);
        const mac = Buffer.allocUnsafe(BLOCK);
        for (let j = 0; j < 4; j++) {
          mac[2 * j] = HEX_ASCII[last[j] >> 4];
          mac[2 * j + 1] = HEX_ASCII[last[j] & 15];
        }
        return mac;
      },
    },
    {
      algorithm: 'x9.9',
      name: 'one ECB update() per block, XOR in JS',
      op: (data) => {
        const padded = zeroPadded(data);
        return cbcByBlocks(ecb, padded, padded.length / BLOCK);
      },
    },
    {
      algorithm: 'x9.19',
      name: 'one ECB update() per block (K1), XOR in JS, D K2 E K1',
      op: (data) => {
        const padded = zeroPadded(data);
        return k1.encrypt(k2.decrypt(cbcByBlocks(k1, padded, padded.length / BLOCK)));
      },
    },
    {
      algorithm: 'x9.19',
      name: 'new des-ede3-cbc (K1) per MAC, one update(), D K2 E K1',
      op: (data) => {
        const padded = zeroPadded(data);
        const cbc = createCipheriv('des-ede3-cbc', k1Triple, Buffer.alloc(BLOCK)).setAutoPadding(false).update(padded);
        return k1.encrypt(k2.decrypt(cbc.subarray(cbc.length - BLOCK)));
      },
    },
  ];
}

function main(): void {
  const input = macInput(codec, readTerminalMessage(codec, salePayload()).message);
  const blocks = Math.ceil(input.length / BLOCK);
  console.log(`bench:mac  node ${process.version}, one core, ${loadNote()}`);
  console.log(`MAC of the realistic 0200 sale's MAC input (${input.length} bytes, ${blocks} blocks), all on node:crypto`);
  console.log('A = now (contexts kept by the key, one update() per CBC-MAC), B = before\n');
  const keys = new Map<MacAlgorithm, SecretKey>(MAC_ALGORITHMS.map((a) => [a, SecretKey.fromHex(KEYS[a])]));
  const key = (algorithm: MacAlgorithm): SecretKey => keys.get(algorithm) ?? SecretKey.fromHex(KEYS[algorithm]);
  const results = new Map<MacAlgorithm, Paired>();
  for (const algorithm of MAC_ALGORITHMS) {
    const bytes = Buffer.from(KEYS[algorithm], 'hex');
    const old = before(algorithm, bytes);
    if (!computeMac(algorithm, key(algorithm), input).equals(old(input))) throw new Error(`${algorithm}: the two sides differ`);
    const result = paired(
      { name: `MAC ${algorithm}, now`, op: () => computeMac(algorithm, key(algorithm), input), batch: 200 },
      { name: `MAC ${algorithm}, before`, op: () => old(input), batch: 50 },
    );
    console.log(formatPaired(result, 'speed-up, now / before') + '\n');
    results.set(algorithm, result);
    bytes.fill(0);
  }

  console.log('The ways not taken: A = now, B = the alternative, both on node:crypto\n');
  for (const alternative of alternatives()) {
    const { algorithm } = alternative;
    if (!computeMac(algorithm, key(algorithm), input).equals(alternative.op(input))) throw new Error(`${algorithm}, ${alternative.name}: the two sides differ`);
    const result = paired(
      { name: `MAC ${algorithm}, now`, op: () => computeMac(algorithm, key(algorithm), input), batch: 200 },
      { name: `MAC ${algorithm}, ${alternative.name}`, op: () => alternative.op(input), batch: 20 },
    );
    console.log(formatPaired(result, 'now / alternative') + '\n');
  }

  // The floor: what node:crypto charges for one call, and for the DES work X9.19 must do.
  const floorKey = Buffer.from(KEYS['x9.19'], 'hex');
  const one = new EcbEngine(floorKey.subarray(0, 8));
  const k1Triple = tripleLengthKey(floorKey.subarray(0, 8));
  floorKey.fill(0);
  const chained = createCipheriv('des-ede3-cbc', k1Triple, Buffer.alloc(BLOCK)).setAutoPadding(false);
  k1Triple.fill(0);
  const block = Buffer.alloc(BLOCK);
  const chainedBlocks = Buffer.alloc((blocks - 1) * BLOCK);
  console.log('The floor: single calls on kept contexts (no MAC around them)');
  const perCall = measureOne({ name: 'one update() of 1 block (des-ede3-ecb, kept)', op: () => one.encrypt(block), batch: 200 });
  const perChain = measureOne({ name: `one update() of ${blocks - 1} blocks (des-ede3-cbc K1 K1 K1, kept)`, op: () => chained.update(chainedBlocks), batch: 20 });
  console.log(formatRate(perCall));
  console.log(formatRate(perChain) + '\n');
  for (const k of keys.values()) k.destroy();

  // Targets read CPU time per MAC (what one core spends; the wall figure is printed beside it).
  const us = (r: Paired | undefined): number => (r === undefined ? NaN : r.a.cpuNsPerOp / 1000);
  const wall = (r: Paired | undefined): string => (r === undefined ? 'n/a' : (r.a.nsPerOp / 1000).toFixed(2));
  const x919 = us(results.get('x9.19'));
  const ecbMac = us(results.get('unionpay-ecb'));
  const floor919 = (perChain.cpuNsPerOp + perCall.cpuNsPerOp) / 1000;
  console.log(
    targetLine(
      'X9.19 MAC of the sale',
      `${x919.toFixed(2)} us CPU (${wall(results.get('x9.19'))} us wall; node:crypto floor ${floor919.toFixed(2)} us: two update() calls, ${blocks - 1} blocks single DES as 3DES and 1 block 3DES)`,
      '<= 10 us',
      x919 <= 10,
    ),
  );
  console.log(
    targetLine(
      'UnionPay ECB MAC of the sale',
      `${ecbMac.toFixed(2)} us CPU (${wall(results.get('unionpay-ecb'))} us wall; node:crypto floor ${(perCall.cpuNsPerOp / 1000).toFixed(2)} us: one update() call)`,
      '<= 2 us',
      ecbMac <= 2,
    ),
  );
}

main();
