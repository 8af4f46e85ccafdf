import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CodecError, ERROR_CODES, NacbridgeError } from '../src/errors';
import { MessageCodec } from '../src/iso8583/codec';
import { IsoMessage } from '../src/iso8583/message';
import { unionpayPos } from '../src/iso8583/specs/unionpay-pos';
import { repoRoot } from './support/vectors';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith('.ts') ? [full] : [];
  });
}

describe('errors: one registry of codes, causes kept, no bare Error from src', () => {
  it('every code in the registry says what it means, and no two codes are the same', () => {
    const codes = Object.keys(ERROR_CODES);
    assert.ok(codes.length > 100, `${codes.length} codes`);
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[A-Z][A-Z0-9_]*$/);
      assert.ok(meaning.length > 10, `${code} says what it means`);
    }
  });

  it('nothing under src/ throws a bare Error: every error it throws on purpose is a NacbridgeError with a code', () => {
    const bare: string[] = [];
    for (const file of sources(path.join(repoRoot(), 'src'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/throw new (Error|TypeError|RangeError)\(/.test(line)) bare.push(`${path.relative(repoRoot(), file)}:${i + 1}`);
        });
    }
    assert.deepEqual(bare, []);
  });

  it('R-MSG-4: a BCD error met while packing a field names the field and keeps the lower codec\'s error as its cause', () => {
    const codec = new MessageCodec(unionpayPos);
    let caught: unknown;
    try {
      codec.pack(new IsoMessage('0200', { 4: '00000000123A', 11: '000001' }));
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof CodecError, String(caught));
    assert.equal(caught.context.field, 4);
    assert.match(caught.message, /^field 4: /);
    assert.ok(caught.cause instanceof NacbridgeError, 'the lower error is kept as the cause');
    assert.equal((caught.cause as NacbridgeError).code, caught.code);
  });
});
