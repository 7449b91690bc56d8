/**
 * A parser for the gcfg-style INI that cloud-provider-openstack's cloud.conf uses, so users can
 * reuse the file they have: `[Section]`, `key = value`, `;`/`#` comments, double-quoted values
 * with \" \\ \n \t escapes. Unquoted values end at `;` or `#` (as gcfg does), so a password that
 * contains them must be quoted. Errors name the file and line.
 */
export interface IniEntry {
  value: string;
  line: number;
}
export type IniSections = Map<string, Map<string, IniEntry>>;

export class IniError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'IniError';
  }
}

export function parseIni(text: string, file: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, IniEntry> | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    if (line.startsWith('[')) {
      const m = /^\[\s*([A-Za-z0-9_.-]+)\s*\]\s*([;#].*)?$/.exec(line);
      if (!m?.[1]) throw new IniError(file, lineNo, `malformed section header ${JSON.stringify(line)}`);
      const name = m[1];
      if (sections.has(name)) throw new IniError(file, lineNo, `section [${name}] appears twice`);
      current = new Map();
      sections.set(name, current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new IniError(file, lineNo, 'expected "key = value"');
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(key)) throw new IniError(file, lineNo, `malformed key ${JSON.stringify(key)}`);
    if (!current) throw new IniError(file, lineNo, `key "${key}" outside of any section`);
    if (current.has(key)) throw new IniError(file, lineNo, `key "${key}" appears twice`);
    current.set(key, { value: parseValue(line.slice(eq + 1).trim(), file, lineNo, key), line: lineNo });
  });
  return sections;
}

function parseValue(rest: string, file: string, line: number, key: string): string {
  if (!rest.startsWith('"')) {
    const cut = rest.search(/[;#]/);
    return (cut === -1 ? rest : rest.slice(0, cut)).trim();
  }
  let out = '';
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\') {
      const n = rest[++i];
      const escapes: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t' };
      const mapped = n === undefined ? undefined : escapes[n];
      if (mapped === undefined) throw new IniError(file, line, `bad escape in the value of "${key}"`);
      out += mapped;
    } else if (c === '"') {
      const tail = rest.slice(i + 1).trim();
      if (tail !== '' && !tail.startsWith(';') && !tail.startsWith('#')) {
        throw new IniError(file, line, `text after the closing quote in the value of "${key}"`);
      }
      return out;
    } else {
      out += c;
    }
  }
  throw new IniError(file, line, `unterminated quote in the value of "${key}"`);
}
