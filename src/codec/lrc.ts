/** XOR of every byte in `bytes[start..end)`: the LRC of async POS frames (R-MDM-6). */
export function lrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i];
  return x;
}
