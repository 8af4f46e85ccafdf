import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { validateConfig } from '../src/config/load';
import { signonConfigSchema } from '../src/terminal/signon';
import { platformConfigSchema } from '../src/sim/platform/config';
import { runCli } from './support/cli';
import { repoRoot } from './support/vectors';

/** A fenced block of the README: its language tag, text, and the ## section it is in. */
interface Block {
  lang: string;
  text: string;
  section: string;
}

function readmeBlocks(): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  for (let m = fence.exec(readme); m !== null; m = fence.exec(readme)) {
    const section = [...readme.slice(0, m.index).matchAll(/^## (.*)$/gm)].pop()?.[1] ?? '';
    blocks.push({ lang: m[1], text: m[2], section });
  }
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
    const index = blocks.findIndex((b) => b.lang === 'sh' && b.text.startsWith('npx nacbridge decode --hex'));
    assert.ok(index >= 0, 'a sh block with the decode example');
    // As a shell reads it: a backslash-newline joins the two lines.
    const args = blocks[index].text.replace(/\\\n/g, '').trim().split(/\s+/).slice(2);
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

  it('every nacbridge command the README shows is called through npx (a fresh clone has no global bin), names a real command, and uses only options that command has', async function () {
    this.timeout(60_000);
    // The field-box section is about the installed tool, on PATH as nacbridge: the interop suite runs it.
    const lines = blocks
      .filter((b) => (b.lang === 'sh' || b.lang === 'text') && b.section !== 'Installing on a field box')
      .flatMap((b) => b.text.replace(/\\\n/g, ' ').split('\n'))
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => /(^|\s)nacbridge\s/.test(l) && !l.startsWith('npm ') && !l.startsWith('sudo '));
    assert.ok(lines.length >= 15, `${lines.length} command lines found`);
    const helps = new Map<string, string>();
    for (const line of lines) {
      const words = line.split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w));
      const at = words.indexOf('nacbridge');
      assert.ok(at === 1 && words[0] === 'npx', `called as npx nacbridge: ${line}`);
      const command: string[] = [];
      for (const w of words.slice(at + 1)) {
        if (!/^[a-z][a-z-]*$/.test(w)) break;
        command.push(w);
      }
      const key = command.join(' ');
      if (!helps.has(key)) {
        const r = await runCli([...command, '--help']);
        assert.equal(r.code, 0, `npx nacbridge ${key} --help: ${r.stderr}`);
        helps.set(key, r.stdout);
      }
      for (const option of line.match(/(?<=^|[\s[(|])--?[a-zA-Z][\w-]*/g) ?? []) {
        // Whole option names: --key is not --key-env.
        assert.match(helps.get(key) as string, new RegExp(`(^|[\\s,])${option}(?![\\w-])`, 'm'), `${option} is an option of nacbridge ${key} (README: ${line})`);
      }
    }
  });
});

