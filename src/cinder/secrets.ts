import { REDACTED } from '../log/redact.js';

/**
 * The strings this client must never let out: the password, the application-credential secret
 * and the tokens it obtained. The log layer redacts by key name; this one catches the values
 * themselves wherever a server might echo them back (an error message, a body we quote).
 */
export class SecretScrubber {
  private readonly fixed = new Set<string>();
  /** Tokens rotate: keep the recent few, the older ones can no longer be used anyway. */
  private tokens: string[] = [];

  constructor(secrets: Array<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  add(secret: string | undefined): void {
    // Very short values would redact ordinary words; Keystone never issues such secrets.
    if (secret && secret.length >= 4) this.fixed.add(secret);
  }

  addToken(token: string): void {
    if (token.length < 4 || this.tokens.includes(token)) return;
    this.tokens = [token, ...this.tokens].slice(0, 8);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of [...this.fixed, ...this.tokens]) {
      if (out.includes(s)) out = out.split(s).join(REDACTED);
    }
    return out;
  }
}
