import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import * as path from 'node:path';
import { parse } from 'yaml';
import { startStatusServer, type StatusServer } from '../../src/nac/observability';
import { BENCH_CARD, BENCH_TMK, startSimBench, terminalIdOf, type SimBench } from '../../src/sim/bench/bench';
import { repoRoot } from '../support/vectors';
import { until } from '../support/wait';

function fetch(port: number, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Each metric family in /metrics by the names its samples carry (a histogram's _bucket, _count and _sum), with the label names seen on them. */
function metricNames(text: string): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const suffixes = type[2] === 'histogram' ? ['_bucket', '_count', '_sum'] : type[2] === 'summary' ? ['', '_count', '_sum'] : [''];
      for (const s of suffixes) names.set(type[1] + s, names.get(type[1] + s) ?? new Set());
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const labels = names.get(sample[1]);
    assert.ok(labels, `${sample[1]} has a # TYPE line`);
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(m[1]);
  }
  return names;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

/** The rules of examples/prometheus-alerts.yaml, checked for the shape Prometheus loads. */
function alertRules(): Rule[] {
  const doc: unknown = parse(readFileSync(path.join(repoRoot(), 'examples', 'prometheus-alerts.yaml'), 'utf8'));
  assert.ok(doc !== null && typeof doc === 'object' && 'groups' in doc && Array.isArray(doc.groups), 'a groups list');
  const rules: Rule[] = [];
  for (const group of doc.groups as unknown[]) {
    assert.ok(group !== null && typeof group === 'object' && 'name' in group && 'rules' in group && Array.isArray(group.rules), 'each group has a name and rules');
    for (const rule of group.rules as Record<string, unknown>[]) {
      assert.equal(typeof rule.alert, 'string');
      assert.equal(typeof rule.expr, 'string', `${String(rule.alert)}: expr`);
      assert.deepEqual(Object.keys(rule).filter((k) => !['alert', 'expr', 'for', 'labels', 'annotations'].includes(k)), [], `${String(rule.alert)}: only keys Prometheus knows`);
      if (rule.for !== undefined) assert.match(String(rule.for), /^\d+[smh]$/, `${String(rule.alert)}: for`);
      const labels = rule.labels as Record<string, unknown> | undefined;
      const annotations = rule.annotations as Record<string, unknown> | undefined;
      assert.ok(['critical', 'warning', 'info'].includes(String(labels?.severity)), `${String(rule.alert)}: severity`);
      assert.equal(typeof annotations?.summary, 'string', `${String(rule.alert)}: summary`);
      rules.push(rule as unknown as Rule);
    }
  }
  return rules;
}

/** Labels Prometheus adds to every scraped series, and a histogram's bucket label. */
const SCRAPE_LABELS = new Set(['instance', 'job', 'le']);

describe('examples/prometheus-alerts.yaml against a running NAC (issue 24 item 5)', function () {
  this.timeout(30_000);
  let bench: SimBench | undefined;
  let status: StatusServer | undefined;
  afterEach(async () => {
    await status?.close();
    await bench?.close();
    status = undefined;
    bench = undefined;
  });

  it('parses, every rule has what Prometheus needs, and every metric and label each rule uses is in /metrics of a running NAC', async () => {
    const rules = alertRules();
    assert.ok(rules.length >= 3);
    assert.equal(new Set(rules.map((r) => r.alert)).size, rules.length, 'alert names unique');
    for (const wanted of ['NacbridgeLineStopsAnswering', 'NacbridgeHostSuccessRateDrop', 'NacbridgeLinkFlapping']) assert.ok(rules.some((r) => r.alert === wanted), wanted);

    // Bindings configured so their metrics are there too; one call with traffic so histograms have samples.
    bench = await startSimBench({ lines: 1, bindings: { onMismatch: 'flag', terminals: [{ terminalId: terminalIdOf(0), ani: ['50582613'] }] } });
    status = await startStatusServer(bench.nac, '127.0.0.1', 0);
    const call = await bench.dial(0, '50582613');
    assert.equal((await call.terminal.signOn()).responseCode, '00');
    const text = await fetch(status.port, '/metrics');
    const names = metricNames(text);

    let checked = 0;
    for (const rule of rules) {
      const used = [...rule.expr.matchAll(/\b(nacbridge_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g)].map((m) => m[1]);
      assert.ok(used.length > 0, `${rule.alert} uses a nacbridge metric`);
      for (const name of used) {
        const labels = names.get(name);
        assert.ok(labels, `${rule.alert}: ${name} is in /metrics`);
        checked++;
      }
      // Label matchers name labels their metric has: name{label="..."}.
      for (const m of rule.expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)) {
        const labels = names.get(m[1]) ?? assert.fail(`${rule.alert}: ${m[1]}`);
        for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) assert.ok(labels.has(l[1]), `${rule.alert}: ${m[1]} has the label ${l[1]}`);
      }
      // Grouping labels (by, on) are on at least one of the rule's metrics, or added by the scrape.
      for (const m of rule.expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)) {
        for (const label of m[1].split(',').map((s) => s.trim())) {
          if (SCRAPE_LABELS.has(label)) continue;
          assert.ok(used.some((name) => names.get(name)?.has(label)), `${rule.alert}: ${label} is a label of ${used.join(' or ')}`);
        }
      }
    }
    assert.ok(checked >= rules.length);

    // What the histograms say after the one sign-on: answered on line1, for NII 0003 of cups.
    assert.match(text, /nacbridge_line_request_seconds_count\{line="line1",outcome="answered"\} 1\n/);
    assert.match(text, /nacbridge_nii_request_seconds_count\{host="cups",nii="0003",outcome="answered"\} 1\n/);
    assert.match(text, /nacbridge_line_call_answer_seconds_count\{line="line1"\} 1\n/);
    assert.ok(!text.includes(BENCH_CARD.pan) && !text.includes(BENCH_TMK));
  });

  it('R-DIAL-4 on the bench: a terminal calling from the wrong number is refused before the platform; /metrics and /status count it', async () => {
    bench = await startSimBench({ lines: 2, posTimeoutMs: 1500, bindings: { terminals: [{ terminalId: terminalIdOf(1), ani: ['50582614'] }] } });
    status = await startStatusServer(bench.nac, '127.0.0.1', 0);
    const good = await bench.dial(0, '50582613');
    assert.equal((await good.terminal.signOn()).responseCode, '00', 'an unbound terminal is not checked');
    const wrong = await bench.dial(1, '50589999');
    const refused = wrong.terminal.signOn().then(
      () => 'answered',
      () => 'no answer',
    );
    await until(() => bench?.nac.relay.counters.rejected['binding-mismatch'] === 1, 'the sign-on refused');
    assert.equal(await refused, 'no answer');
    assert.deepEqual(bench.sim.journal.entries.map((e) => e.terminalId), [terminalIdOf(0)], 'the refused terminal never reached the platform');
    const text = await fetch(status.port, '/metrics');
    assert.match(text, /nacbridge_binding_mismatches_total\{action="refused",kind="ani"\} 1\n/);
    assert.match(text, /nacbridge_binding_mismatches_total\{action="flagged",kind="ani"\} 0\n/);
    assert.match(text, /nacbridge_frames_rejected_total\{reason="binding-mismatch"\} 1\n/);
    assert.match(text, /nacbridge_terminal_new_numbers_total 1\n/, 'first seen from a number it is not bound to');
    const s = JSON.parse(await fetch(status.port, '/status')) as { bindings: { onMismatch: string; terminals: number; counters: { refused: number }; recent: { event: string; terminalId: string; ani: string }[] } };
    assert.equal(s.bindings.onMismatch, 'refuse');
    assert.equal(s.bindings.terminals, 1);
    assert.equal(s.bindings.counters.refused, 1);
    assert.deepEqual(s.bindings.recent.map((e) => [e.event, e.terminalId, e.ani]), [
      ['new-number', terminalIdOf(1), '50589999'],
      ['mismatch', terminalIdOf(1), '50589999'],
    ]);
  });

  it('no binding configured: /status says null and /metrics has no binding figures', async () => {
    bench = await startSimBench({ lines: 1 });
    status = await startStatusServer(bench.nac, '127.0.0.1', 0);
    const text = await fetch(status.port, '/metrics');
    assert.doesNotMatch(text, /nacbridge_binding_mismatches_total|nacbridge_terminal_new_numbers_total/);
    assert.equal((JSON.parse(await fetch(status.port, '/status')) as { bindings: unknown }).bindings, null);
    // The request histograms have their series before the first call, so rules over them see the line and the NII.
    assert.match(text, /nacbridge_line_request_seconds_count\{line="line1",outcome="answered"\} 0\n/);
    assert.match(text, /nacbridge_nii_request_seconds_count\{host="cups",nii="default",outcome="answered"\} 0\n/);
  });
});
