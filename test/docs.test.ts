import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot, vectors, vectorsFile, type Provenance } from './support/vectors';

const RULE_ID = /\bR-[A-Z]+-\d+\b/g;
const CODE_DIRS = ['src', 'test', 'tools', 'hardware'] as const;

/** Every file under `dir` (relative to the repository root), recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(repoRoot(), rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk(dir);
  return out;
}

function read(rel: string): string {
  return readFileSync(path.join(repoRoot(), rel), 'utf8');
}

/** Rule IDs defined in docs/wire-rules.md: a list item that opens with the bold ID. */
function definedRules(): string[] {
  return [...read('docs/wire-rules.md').matchAll(/^- \*\*(R-[A-Z]+-\d+)\*\*/gm)].map((m) => m[1]);
}

function citedIn(text: string): Set<string> {
  return new Set(text.match(RULE_ID) ?? []);
}

/**
 * What would make a clone depend on something beside it: the old shared folder (as a path
 * string, or as the two path segments parent and shared), its helper and environment override, and the
 * documents that lived there. Spelled in pieces so this file does not match itself.
 */
const OUTSIDE = [
  { what: 'a path into the shared folder beside the repository', re: new RegExp(['\\.\\.', 'shared'].join('[\\\\/]')) },
  { what: 'the path segments parent and shared', re: new RegExp(`['"]\\.\\.['"]\\s*,\\s*['"]${'sha' + 'red'}['"]`) },
  { what: 'a path above the repository root', re: new RegExp(`${'repo' + 'Root'}\\(\\)\\s*,\\s*['"]\\.\\.['"]`) },
  { what: 'the old helper', re: new RegExp('shared' + 'Dir') },
  { what: 'the old environment override', re: new RegExp('NACBRIDGE_' + 'SHARED') },
  { what: 'a document outside the repository', re: new RegExp(`\\b(${['SPEC', 'DESIGN', 'V80-SDLC'].join('|')})\\.md\\b`) },
];

function outsideReferences(text: string): string[] {
  return OUTSIDE.filter(({ re }) => re.test(text)).map(({ what }) => what);
}

describe('Docs: the wire rules, the design notes and the vectors are in this repository', () => {
  it('every rule ID cited under src/, test/, tools/ or hardware/ is defined in docs/wire-rules.md', () => {
    const defined = new Set(definedRules());
    const undefinedCites: string[] = [];
    let cites = 0;
    for (const dir of CODE_DIRS) {
      for (const file of filesUnder(dir)) {
        for (const id of citedIn(read(file))) {
          cites++;
          if (!defined.has(id)) undefinedCites.push(`${file}: ${id}`);
        }
      }
    }
    assert.ok(cites > 100, `the tests and code cite rules (${cites} file/rule pairs found)`);
    assert.deepEqual(undefinedCites, [], 'rule IDs cited but not defined in docs/wire-rules.md');
  });

  it('every rule ID in the title of a loaded test or suite is defined in docs/wire-rules.md', function () {
    // The titles as mocha holds them, built ones included (template strings, tables of cases).
    let root = this.test?.parent;
    while (root?.parent) root = root.parent;
    assert.ok(root, 'the root suite');
    const titles: string[] = [];
    const walk = (suite: Mocha.Suite): void => {
      titles.push(suite.title);
      for (const t of suite.tests) titles.push(t.title);
      for (const s of suite.suites) walk(s);
    };
    walk(root);
    const defined = new Set(definedRules());
    const missing = titles.flatMap((title) => [...citedIn(title)].filter((id) => !defined.has(id)).map((id) => `${id} in "${title}"`));
    assert.deepEqual(missing, []);
    // Under `npm test` every test file is loaded, and the suite cites rules in its titles.
    if (root.suites.length > 1) assert.ok(titles.some((t) => citedIn(t).size > 0), 'some loaded title names a rule');
  });

  it('docs/wire-rules.md defines each rule once, numbered from 1 with no gap in each family', () => {
    const ids = definedRules();
    assert.ok(ids.length >= 40, `rules defined: ${ids.length}`);
    assert.equal(new Set(ids).size, ids.length, `a rule defined twice: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
    const families = new Map<string, number[]>();
    for (const id of ids) {
      const [, family, n] = /^R-([A-Z]+)-(\d+)$/.exec(id) ?? [];
      families.set(family, [...(families.get(family) ?? []), Number(n)]);
    }
    for (const [family, numbers] of families) {
      const sorted = [...numbers].sort((a, b) => a - b);
      assert.deepEqual(sorted, sorted.map((_, i) => i + 1), `R-${family}-n runs 1..${sorted.length}`);
    }
    for (const family of ['CONN', 'FRAME', 'DIAL', 'IDLE', 'MSG', 'KEY', 'MAC', 'PIN', 'MDM', 'PAD']) {
      assert.ok(families.has(family), `the R-${family} rules are defined`);
    }
  });

  it('nothing under src/, test/, tools/ or hardware/ reads or names a path or document outside the repository', () => {
    // The check itself must catch what it looks for.
    const planted = [
      ['..', 'sha' + 'red', 'vectors', 'vectors.json'].join('/'),
      `path.resolve(${'repo' + 'Root'}(), '..', '${'sha' + 'red'}')`,
      `process.env.${'NACBRIDGE_' + 'SHARED'}`,
      `see ${'SPEC'}.md §5`,
    ];
    for (const text of planted) assert.notDeepEqual(outsideReferences(text), [], `the check catches ${text}`);
    assert.deepEqual(outsideReferences('docs/wire-rules.md, the shared read buffer, sharedReadBuffer'), []);

    const found: string[] = [];
    let files = 0;
    for (const dir of CODE_DIRS) {
      for (const file of filesUnder(dir)) {
        files++;
        for (const what of outsideReferences(read(file))) found.push(`${file}: ${what}`);
      }
    }
    assert.ok(files > 100, `files scanned: ${files}`);
    assert.deepEqual(found, []);
  });

  it('the vectors are read from test/vectors in this repository, and each says where it came from and what confirmed it', () => {
    assert.equal(path.relative(repoRoot(), vectorsFile()), path.join('test', 'vectors', 'vectors.json'));
    const groups = Object.entries(vectors()) as [string, Partial<Provenance>[]][];
    const readme = read('test/vectors/README.md');
    let count = 0;
    for (const [group, list] of groups) {
      assert.ok(list.length > 0, `group ${group} has vectors`);
      assert.ok(readme.includes(`| \`${group}\` |`), `test/vectors/README.md describes the ${group} group`);
      list.forEach((v, i) => {
        count++;
        assert.ok(typeof v.source === 'string' && v.source.trim().length > 0, `${group}[${i}] has a source`);
        assert.ok(typeof v.confirmed === 'string' && v.confirmed.trim().length > 0, `${group}[${i}] says what confirmed it`);
      });
    }
    assert.ok(count >= 13, `vectors: ${count}`);
  });

  it('the files and links the docs name exist in the repository', () => {
    const docs = ['docs/wire-rules.md', 'docs/design.md', 'test/vectors/README.md'];
    const missing: string[] = [];
    for (const doc of docs) {
      const text = read(doc);
      // Repository paths in backticks (globs and placeholders left out).
      for (const [, p] of text.matchAll(/`((?:src|test|tools|hardware|docs)\/[\w./-]+)`/g)) {
        if (!existsSync(path.join(repoRoot(), p))) missing.push(`${doc}: \`${p}\``);
      }
      // Relative Markdown links.
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(path.resolve(path.dirname(path.join(repoRoot(), doc)), target))) missing.push(`${doc}: (${target})`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
