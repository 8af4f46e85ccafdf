import { binary, numeric, prefix, text, track } from '../field';
import type { MessageSpec } from '../message-spec';

/**
 * The UnionPay POS terminal message (docs/wire-rules.md §5). Read it against the field table there.
 *
 * One deliberate widening: field 60 is n...017 in the table, but real terminals send up to 19
 * digits (R-MSG-10; the published 0200 sample in vectors.json has 19). A relay must pass what
 * the platform accepts, so the default takes 19; a profile can narrow it.
 */
export const unionpayPos: MessageSpec = {
  name: 'unionpay-pos',
  fields: {
    2: numeric({ description: 'Primary account number', length: 19, prefix: prefix.LL, redaction: 'pan' }),
    3: numeric({ description: 'Processing code', length: 6 }),
    4: numeric({ description: 'Amount, transaction (fen)', length: 12 }),
    11: numeric({ description: 'System trace audit number', length: 6 }),
    12: numeric({ description: 'Time, local transaction', length: 6 }),
    13: numeric({ description: 'Date, local transaction', length: 4 }),
    14: numeric({ description: 'Date, expiration', length: 4 }),
    15: numeric({ description: 'Date, settlement', length: 4 }),
    22: numeric({ description: 'Point of service entry mode', length: 3, align: 'left' }),
    23: numeric({ description: 'Card sequence number', length: 3 }),
    25: numeric({ description: 'Point of service condition code', length: 2 }),
    26: numeric({ description: 'Point of service PIN capture code', length: 2 }),
    32: numeric({ description: 'Acquiring institution identification code', length: 11, prefix: prefix.LL }),
    35: track({ description: 'Track 2 data', length: 37, prefix: prefix.LL, redaction: 'hidden' }),
    36: track({ description: 'Track 3 data', length: 104, prefix: prefix.LLL, redaction: 'hidden' }),
    37: text({ description: 'Retrieval reference number', length: 12 }),
    38: text({ description: 'Authorization identification response', length: 6 }),
    39: text({ description: 'Response code', length: 2 }),
    41: text({ description: 'Card acceptor terminal identification', length: 8 }),
    42: text({ description: 'Card acceptor identification code', length: 15 }),
    44: text({ description: 'Additional response data', length: 25, prefix: prefix.LL }),
    48: numeric({ description: 'Additional data, private', length: 322, prefix: prefix.LLL }),
    49: text({ description: 'Currency code, transaction', length: 3 }),
    52: binary({ description: 'PIN data', length: 8, redaction: 'hidden' }),
    53: numeric({ description: 'Security related control information', length: 16 }),
    54: text({ description: 'Balance amount', length: 20, prefix: prefix.LLL }),
    55: binary({ description: 'ICC system related data', length: 255, prefix: prefix.LLL, redaction: 'hidden', tlv: true }),
    59: text({ description: 'Reserved (custom)', length: 600, prefix: prefix.LLL }),
    60: numeric({ description: 'Reserved (custom): type, batch, network management', length: 19, prefix: prefix.LLL }),
    61: numeric({ description: 'Original message', length: 29, prefix: prefix.LLL }),
    62: binary({ description: 'Reserved (custom): work keys / data', length: 512, prefix: prefix.LLL, redaction: 'hidden' }),
    63: text({ description: 'Reserved (custom)', length: 163, prefix: prefix.LLL }),
    64: binary({ description: 'Message authentication code', length: 8 }),
  },
};
