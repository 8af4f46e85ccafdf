#!/usr/bin/env python3
"""Recompute the vectors in vectors.json without nacbridge's code.

DES/3DES comes from the OpenSSL command line, everything else is plain Python written from
docs/wire-rules.md. Not part of `npm test` (which needs Node alone); run it by hand after
adding or changing a vector:  python3 test/vectors/confirm.py
Prints one line per vector, never a key, PIN or PAN; exits 1 if any vector disagrees.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
V = json.load(open(os.path.join(HERE, 'vectors.json'), encoding='utf-8'))
failures = 0


def report(name, ok):
    global failures
    print(('ok   ' if ok else 'FAIL ') + name)
    if not ok:
        failures += 1


def des(key_hex, data, decrypt=False):
    """ECB without padding; an 8-byte key runs as 3DES with K1 = K2 = K3 (single DES)."""
    key = key_hex if len(key_hex) == 32 else key_hex * 2
    args = ['openssl', 'enc', '-des-ede-ecb', '-K', key, '-nopad'] + (['-d'] if decrypt else [])
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def kcv(key_hex):
    return des(key_hex, bytes(8))[:4].hex().upper()


for i, v in enumerate(V['kcv']):
    report(f'kcv[{i}] check value', kcv(v['key']) == v['kcv'])

for i, v in enumerate(V['field62']):
    f = bytes.fromhex(v['field62'])
    # 003 layout: PIN key 16 + check 4 + MAC key 8 + 8 zero bytes + check 4
    pin = des(v['tmk'], f[0:16], decrypt=True).hex().upper()
    mac = des(v['tmk'], f[20:28], decrypt=True).hex().upper()
    ok = (len(f) == 40 and pin == v['pinKey'] and mac == v['macKey'] and f[28:36] == bytes(8)
          and f[16:20].hex().upper() == v['pinKeyCheck'] == kcv(pin)
          and f[36:40].hex().upper() == v['macKeyCheck'] == kcv(mac))
    report(f'field62[{i}] keys and check values', ok)

for i, v in enumerate(V['mac']):
    frame = bytes.fromhex(v['frame'])
    data = frame[2 + 5 + 6:-8]  # MTI through the field before 64
    data += bytes(-len(data) % 8)
    x = bytearray(8)
    for at in range(0, len(data), 8):
        for j in range(8):
            x[j] ^= data[at + j]
    h = x.hex().upper().encode()
    first = des(v['key'], h[:8])
    second = des(v['key'], bytes(a ^ b for a, b in zip(first, h[8:])))
    mac = second.hex().upper()[:8]
    ok = (int.from_bytes(frame[:2], 'big') == len(frame) - 2 and mac == v['field64Ascii']
          and frame[-8:].decode('ascii') == mac)
    report(f'mac[{i}] unionpay-ecb', ok)

for i, v in enumerate(V['pinBlock']):
    pin_field = ('0' + str(len(v['pin'])) + v['pin']).ljust(16, 'F')
    pan_field = '0000' + v['pan'][:-1][-12:]
    report(f'pinBlock[{i}] format 0', format(int(pin_field, 16) ^ int(pan_field, 16), '016X') == v['clearBlock'])

for i, v in enumerate(V['asyncFrame']):
    f = bytes.fromhex(v['hex'])
    lrc = 0
    for b in f[1:-1]:
        lrc ^= b
    body = f[3:-2]
    ok = (f[0] == 0x02 and f[-2] == 0x03 and lrc == f[-1] and f[1:3].hex() == f'{len(body):04d}'
          and body.hex().upper() == v['tpdu'] + v['data'])
    report(f'asyncFrame[{i}] length and LRC', ok)

for i, v in enumerate(V['callerId']):
    if 'hex' not in v:
        report(f'callerId[{i}] ({v["format"]}): nothing to recompute, restated from the format rule', True)
        continue
    p = bytes.fromhex(v['hex'])
    ok = sum(p) % 256 == 0 and p[1] == len(p) - 3
    got = {}
    if p[0] == 0x04:  # SDMF: MMDDHHMM then the number
        s = p[2:-1].decode('ascii')
        got = {'date': s[0:4], 'time': s[4:8], 'number': s[8:]}
    elif p[0] == 0x80:  # MDMF: type, length, value parameters
        at = 2
        while at < len(p) - 1:
            t, n = p[at], p[at + 1]
            value = p[at + 2:at + 2 + n].decode('ascii')
            if t == 0x01:
                got.update(date=value[0:4], time=value[4:8])
            elif t == 0x02:
                got['number'] = value
            elif t == 0x07:
                got['name'] = value
            at += 2 + n
    ok = ok and all(got.get(k) == v.get(k) for k in ('date', 'time', 'number', 'name') if k in v or k in got)
    report(f'callerId[{i}] ({v["format"]}) checksum and fields', ok)

for i, v in enumerate(V['dialMonitor']):
    b = v['block']
    ok = (len(b) == 66 and b[0:10] == '4C5249001C' and b[10:26] == v['ani'].rjust(16, '0')
          and b[26:42] == v['dnis'].rjust(16, '0') and b[42:] == '580009490006000000220030')
    report(f'dialMonitor[{i}] against the spec example', ok)

# (kind, max, prefix digits): n/z BCD digits, a text, b bytes; 22 is left-aligned.
FIELDS = {2: ('n', 19, 2), 3: ('n', 6, 0), 4: ('n', 12, 0), 11: ('n', 6, 0), 12: ('n', 6, 0),
          13: ('n', 4, 0), 14: ('n', 4, 0), 15: ('n', 4, 0), 22: ('nl', 3, 0), 23: ('n', 3, 0),
          25: ('n', 2, 0), 26: ('n', 2, 0), 32: ('n', 11, 2), 35: ('z', 37, 2), 36: ('z', 104, 3),
          37: ('a', 12, 0), 38: ('a', 6, 0), 39: ('a', 2, 0), 41: ('a', 8, 0), 42: ('a', 15, 0),
          44: ('a', 25, 2), 48: ('n', 322, 3), 49: ('a', 3, 0), 52: ('b', 8, 0), 53: ('n', 16, 0),
          54: ('a', 20, 3), 55: ('b', 255, 3), 59: ('a', 600, 3), 60: ('n', 19, 3),
          61: ('n', 29, 3), 62: ('b', 512, 3), 63: ('a', 163, 3), 64: ('b', 8, 0)}

for i, v in enumerate(V['decode']):
    f = bytes.fromhex(v['frame'])
    ok = int.from_bytes(f[:2], 'big') == len(f) - 2
    at = 2
    tpdu = f[at:at + 5].hex().upper(); at += 5
    header = f[at:at + 6].hex().upper(); at += 6
    mti = f[at:at + 2].hex(); at += 2
    bitmap = int.from_bytes(f[at:at + 8], 'big'); at += 8
    got = {}
    for n in range(2, 65):
        if not bitmap >> (64 - n) & 1:
            continue
        kind, length, prefix = FIELDS[n]
        if prefix:
            length = int(f[at:at + (prefix + 1) // 2].hex()); at += (prefix + 1) // 2
        if kind in ('n', 'nl', 'z'):
            size = (length + 1) // 2
            digits = f[at:at + size].hex().upper()
            # fixed n fields are right-aligned (pad first); 22 and variable ones are left-aligned
            got[str(n)] = digits[len(digits) - length:] if kind == 'n' and not prefix else digits[:length]
        elif kind == 'a':
            size = length
            got[str(n)] = f[at:at + size].decode('latin1')
        else:
            size = length
            got[str(n)] = f[at:at + size].hex().upper()
        at += size
    ok = (ok and at == len(f) and tpdu == v['tpdu'] and header == v['header'] and mti == v['mti']
          and got == v['fields'])
    report(f'decode[{i}] {v["mti"]} field by field', ok)

sys.exit(1 if failures else 0)
