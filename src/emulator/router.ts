/**
 * A tiny route table: "METHOD /template/{param}" → handler. Templates are also the keys of the
 * request stats and of per-route faults, so they must stay stable and id-free.
 */

export interface Route<H> {
  method: string;
  template: string;
  handler: H;
}

interface Compiled<H> extends Route<H> {
  re: RegExp;
  names: string[];
}

export interface RouteMatch<H> {
  route: Route<H>;
  params: Record<string, string>;
  /** "METHOD /template" */
  key: string;
}

export class Router<H> {
  private readonly routes: Compiled<H>[] = [];

  add(method: string, template: string, handler: H): this {
    const names: string[] = [];
    const pattern = template
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1] ?? '');
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, template, handler, re: new RegExp(`^${pattern}/?$`), names });
    return this;
  }

  /** Literal routes win over parameterised ones (/volumes/detail before /volumes/{id}): add them first. */
  match(method: string, path: string): RouteMatch<H> | undefined {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        const raw = m[i + 1] ?? '';
        try {
          params[n] = decodeURIComponent(raw);
        } catch {
          params[n] = raw;
        }
      });
      return { route: r, params, key: `${method} ${r.template}` };
    }
    return undefined;
  }
}
