import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { NacbridgeError } from '../errors';

/** A configuration problem, naming the key path and what was expected. */
export class ConfigError extends NacbridgeError {}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map((p) => String(p)).join('.');
}

/** Validate `data` with `schema`; every problem is listed with its key path. */
export function validateConfig<S extends z.ZodType>(schema: S, data: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new ConfigError('BAD_CONFIG', `${source}: ${problems.join('; ')}`, { file: source });
}

/** Read a JSON or YAML file (by extension; JSON first otherwise) and validate it. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('CONFIG_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file });
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError('CONFIG_SYNTAX', `${file}: ${(e as Error).message}`, { file });
  }
  return validateConfig(schema, data, file);
}
