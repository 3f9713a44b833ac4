// How catalog entries are named for clients: <gateway slug><separator><originalName>.
// Names are never silently altered: what does not fit is refused with a reason.
import { quoted, ValidationError } from '../errors.js';

/** Characters MCP (2025-11-25) allows in tool names. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
const SLUG_MAX = 48;

/** A stable, readable slug: lower case letters, digits and single dashes. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, '');
}

export interface NamingRules {
  separator: string;
  maxLength: number;
}

export function checkSeparator(separator: string): void {
  if (!TOOL_NAME_PATTERN.test(separator)) throw new Error(`separator ${JSON.stringify(separator)} has characters MCP names do not allow`);
}

/** The namespaced name, or a ValidationError naming the offending entry. */
export function namespacedName(slug: string, originalName: string, rules: NamingRules, field: string): string {
  if (!TOOL_NAME_PATTERN.test(originalName)) {
    throw new ValidationError(field, `name ${quoted(originalName)} has characters MCP names do not allow (A-Z a-z 0-9 _ - .)`);
  }
  const name = `${slug}${rules.separator}${originalName}`;
  if (name.length > rules.maxLength) {
    throw new ValidationError(field, `namespaced name ${quoted(name)} is ${name.length} characters, over the maximum of ${rules.maxLength}`);
  }
  return name;
}
