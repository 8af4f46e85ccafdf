import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { NacbridgeError } from '../errors';
import { CONFIG_FILE_CAP, readFileCapped } from './read-capped';

/** A configuration problem, naming the key path and what was expected. */
export class ConfigError extends NacbridgeError {}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map((p) => String(p)).join('.');
}

type Issue = z.core.$ZodIssue;

/** The value at `path` in `data`; undefined when it is not there. */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const EXPECTED: Readonly<Record<string, string>> = { string: 'a string', number: 'a number', boolean: 'true or false', object: 'an object', array: 'a list' };

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value === 'boolean' ? 'true or false' : `a ${typeof value}`;
}

/** What is wrong at an issue's path, in words that name the key and what belongs there. */
function describeIssue(issue: Issue, data: unknown, base: readonly PropertyKey[]): string[] {
  const path = [...base, ...issue.path];
  const here = formatPath(path);
  if (issue.code === 'invalid_union') return describeUnion(issue, data, path);
  if (issue.code === 'invalid_type') {
    const value = valueAt(data, path);
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    if (value === undefined) return [`${here}: missing (${expected})`];
    // YAML reads dnis: 61651108 as a number (and address: 0001 as 1). The value is not quoted
    // back: it may be a card number.
    if (issue.expected === 'string' && typeof value === 'number') {
      return [`${here}: a number where a string is expected: write the value in quotes ("..."), or YAML and JSON read the digits as a number and drop leading zeros`];
    }
    return [`${here}: ${expected} expected, not ${kindOf(value)}`];
  }
  return [`${here}: ${issue.message}`];
}

/**
 * zod reports a union that no option fits as "Invalid input". The option meant is the one whose
 * own keys are all there (keys.pinpad given: the pinpad option), and its problems are the ones to
 * tell; when none or several fit, say which keys choose an option.
 */
function describeUnion(issue: Extract<Issue, { code: 'invalid_union' }>, data: unknown, path: PropertyKey[]): string[] {
  const here = formatPath(path);
  const value = valueAt(data, path);
  const branches = issue.errors;
  if (branches.length === 0) return [`${here}: ${issue.message}`];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const expected = [...new Set(branches.flatMap((b) => b.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [EXPECTED[i.expected] ?? i.expected] : []))))];
    const wanted = expected.length > 0 ? expected.join(' or ') : 'something else';
    return [value === undefined ? `${here}: missing (${wanted})` : `${here}: ${wanted} expected, not ${kindOf(value)}`];
  }
  const present = Object.keys(value);
  const options = branches.map((issues) => ({
    issues,
    missing: issues.filter((i) => i.code === 'invalid_type' && i.path.length === 1 && valueAt(value, i.path) === undefined).map((i) => String(i.path[0])),
    unknown: issues.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [])),
  }));
  const meant = options.filter((o) => o.missing.length === 0);
  const exact = meant.filter((o) => o.unknown.length === 0);
  const chosen = exact.length === 1 ? exact[0] : meant.length === 1 ? meant[0] : null;
  if (chosen) return chosen.issues.flatMap((i) => describeIssue(i, data, path));
  // An option's keys: those it misses, and those it knows among the ones given.
  const keys = options.map((o) => [...o.missing, ...present.filter((k) => !o.unknown.includes(k))].join(' + '));
  const choice = keys.length > 1 ? `${keys.slice(0, -1).join(', ')} or ${keys[keys.length - 1]}` : keys[0];
  return [`${here}: needs exactly one of ${choice} (it has ${present.length > 0 ? present.join(', ') : 'none'})`];
}

/** One line per problem: its key path, and what is wrong or missing there. */
export function describeConfigIssues(issues: readonly Issue[], data: unknown): string[] {
  return issues.flatMap((issue) => describeIssue(issue, data, []));
}

/** Validate `data` with `schema`; every problem is listed with its key path. */
export function validateConfig<S extends z.ZodType>(schema: S, data: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = describeConfigIssues(result.error.issues, data);
  throw new ConfigError('BAD_CONFIG', `${source}: ${problems.join('; ')}`, { file: source });
}

/** Read a JSON or YAML file (by extension; JSON first otherwise; at most CONFIG_FILE_CAP bytes) and validate it. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string): z.infer<S> {
  // Capped: check-config /dev/zero (or a log given by mistake) fails at once, not out of memory.
  const text = readFileCapped(file, CONFIG_FILE_CAP, `config ${file}`, (code) => new ConfigError('CONFIG_UNREADABLE', `cannot read ${file}: ${code}`, { file })).toString('utf8');
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError('CONFIG_SYNTAX', `${file}: ${(e as Error).message}`, { file });
  }
  return validateConfig(schema, data, file);
}
