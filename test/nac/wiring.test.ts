import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { configWarnings, nacConfigSchema } from '../../src/nac/config';
import type { Link } from '../../src/link/link';
import { buildHost } from '../../src/nac/wiring';
import { loadModemProfile, modemProfileSchema } from '../../src/modem/profile';
import { loadPinPadProfile, pinPadProfileSchema } from '../../src/pinpad/profile';
import { platformConfigSchema } from '../../src/sim/platform/config';

const links = [{ host: '10.0.0.1', port: 1 }, { host: '10.0.0.2', port: 1 }];

describe('nac/wiring: config becomes links once, with every default and unit settled there', () => {
  it('R-IDLE-1, R-IDLE-4: a binary2 host has no client-side idle drop; setting idleTimeoutSeconds on one is a warning, not silently ignored', () => {
    const config = nacConfigSchema.parse({ hosts: [{ name: 'cups', default: true, links, idleTimeoutSeconds: 90 }] });
    assert.deepEqual(configWarnings(config), [
      'hosts cups: idleTimeoutSeconds has no effect with binary2 framing: on the terminal format only the platform drops a silent client (R-IDLE-1); the NAC sends keep-alives every heartbeatSeconds',
    ]);
    const quiet = nacConfigSchema.parse({ hosts: [{ name: 'cups', default: true, links }] });
    assert.deepEqual(configWarnings(quiet), []);
  });

  it('R-IDLE-2, R-IDLE-4: an ascii4 host gets its idle drop (180 s unless set) and its keep-alive interval in ms on every link', async () => {
    const clock = new ManualClock();
    const byDefault = buildHost(nacConfigSchema.parse({ hosts: [{ name: 'chan', default: true, framing: 'ascii4', links }] }).hosts[0], clock);
    const set = buildHost(nacConfigSchema.parse({ hosts: [{ name: 'chan', default: true, framing: 'ascii4', heartbeatSeconds: 30, idleTimeoutSeconds: 45, links }] }).hosts[0], clock);
    const terminal = buildHost(nacConfigSchema.parse({ hosts: [{ name: 'cups', default: true, links }] }).hosts[0], clock);
    const timings = (h: ReturnType<typeof buildHost>) => h.group.links.map((l) => [(l as Link).options.heartbeatMs, (l as Link).options.idleTimeoutMs]);
    assert.deepEqual(timings(byDefault), [[120_000, 180_000], [120_000, 180_000]]);
    assert.deepEqual(timings(set), [[30_000, 45_000], [30_000, 45_000]]);
    assert.deepEqual(timings(terminal), [[120_000, 0], [120_000, 0]]);
    await Promise.all([byDefault, set, terminal].map((h) => h.group.close()));
  });
});

describe('config: durations are bounded (Node timers fire at once past about 24.8 days)', () => {
  it('R-IDLE-4: idleTimeoutSeconds of 30 days is refused at start-up, naming the key and the limit; a day is accepted', () => {
    const parse = (idleTimeoutSeconds: number) =>
      nacConfigSchema.safeParse({ hosts: [{ name: 'chan', default: true, framing: 'ascii4', links, idleTimeoutSeconds }] });
    const refused = parse(2_592_000);
    assert.equal(refused.success, false);
    const issue = refused.error?.issues[0];
    assert.deepEqual(issue?.path, ['hosts', 0, 'idleTimeoutSeconds']);
    assert.match(issue?.message ?? '', /at most 86400 seconds \(a day\)/);
    assert.equal(parse(86_400).success, true);
  });

  it('every timer of a modem profile, a PIN pad profile and the platform simulator has the same bound', () => {
    const refusedAt = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }, key: string) =>
      result.success === false && (result.error?.issues ?? []).some((i) => i.path.includes(key));
    assert.ok(refusedAt(modemProfileSchema.safeParse({ ...loadModemProfile('generic'), inactivitySeconds: 2_592_000 }), 'inactivitySeconds'));
    assert.ok(refusedAt(pinPadProfileSchema.safeParse({ ...loadPinPadProfile('zt588'), timeoutMs: 2_592_000_000 }), 'timeoutMs'));
    assert.ok(refusedAt(platformConfigSchema.safeParse({ listen: [{ host: '127.0.0.1', port: 1, allow: ['127.0.0.1'] }], idleTimeoutSeconds: 2_592_000 }), 'idleTimeoutSeconds'));
  });
});
