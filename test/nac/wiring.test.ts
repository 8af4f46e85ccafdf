import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock';
import { configWarnings, nacConfigSchema } from '../../src/nac/config';
import type { Link } from '../../src/link/link';
import { buildHost } from '../../src/nac/wiring';

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
