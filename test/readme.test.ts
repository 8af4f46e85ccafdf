import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { validateConfig } from '../src/config/load';
import { signonConfigSchema } from '../src/terminal/signon';
import { platformConfigSchema } from '../tools/platform-sim/config';
import { runCli } from './support/cli';
import { repoRoot } from './support/vectors';

/** A fenced block of the README: its language tag and text. */
interface Block {
  lang: string;
  text: string;
}

function readmeBlocks(): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  for (let m = fence.exec(readme); m !== null; m = fence.exec(readme)) blocks.push({ lang: m[1], text: m[2] });
  return blocks;
}

/** The one JSON block that starts with `start`: examples are found by what they are, not where. */
function jsonExample(blocks: Block[], start: string): string {
  const found = blocks.filter((b) => b.lang === 'json' && b.text.startsWith(start));
  assert.equal(found.length, 1, `one README json block starting ${start}`);
  return found[0].text;
}

/**
 * What a new user copies from the README has to work as shown: the examples are read from the
 * README itself, so an edit to either the code or the text that parts them fails here.
 */
describe('README examples', () => {
  const blocks = readmeBlocks();
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nacbridge-readme-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the decode example prints exactly the JSON the README shows after it', async () => {
    const index = blocks.findIndex((b) => b.lang === 'sh' && b.text.startsWith('nacbridge decode --hex'));
    assert.ok(index >= 0, 'a sh block with the decode example');
    // As a shell reads it: a backslash-newline joins the two lines.
    const args = blocks[index].text.replace(/\\\n/g, '').trim().split(/\s+/).slice(1);
    const shown = blocks[index + 1];
    assert.equal(shown.lang, 'json', 'the decode example is followed by its output');
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(shown.text));
  });

  it('the NAC config example passes check-config with no warning but that its /dev/ttyUSB0 is absent where there is none', async () => {
    const file = path.join(dir, 'nac.json');
    writeFileSync(file, jsonExample(blocks, '{"lines"'));
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 0, r.stderr);
    const absent = 'nacbridge: warning: lines.0.port: /dev/ttyUSB0 does not exist on this machine (a USB modem not plugged in?); nacbridge run keeps trying to open it\n';
    assert.equal(r.stderr, existsSync('/dev/ttyUSB0') ? '' : absent);
    assert.match(r.stdout, /OK \(1 line\(s\), 1 host\(s\), 2 link\(s\), terminal listener\)/);
  });

  it('the platform simulator and signon config examples validate', () => {
    // The README leaves the TMK as a placeholder: a key does not belong in documentation.
    const platform = jsonExample(blocks, '{"listen"').replace('<32 hex>', '0123456789ABCDEFFEDCBA9876543210');
    assert.doesNotThrow(() => validateConfig(platformConfigSchema, JSON.parse(platform), 'README platform example'));
    const signon = jsonExample(blocks, '{"platform"');
    assert.doesNotThrow(() => validateConfig(signonConfigSchema, JSON.parse(signon), 'README signon example'));
  });
});
