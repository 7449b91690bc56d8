import type { Env } from './env.js';
import { ApiError } from './errors.js';
import { FaultConfigError } from './faults.js';
import { json, jsonBody, noContent, type ApiRequest, type ApiResponse } from './http.js';
import type { Dispatch } from './pipeline.js';
import { Router } from './router.js';
import { isObject } from './validate.js';

/**
 * The emulator's own control routes under /_emulator on the Cinder port, so a benchmark or test in
 * another process can read stats and change faults. Not authenticated (bind to loopback), never
 * counted in the stats and never faulted.
 */

export const ADMIN_PREFIX = '/_emulator';

export interface AdminHooks {
  info(): Record<string, unknown>;
  expireTokens(): void;
  createApplicationCredential(userName: string, name: string): { id: string; secret: string };
}

type AdminHandler = (req: ApiRequest) => ApiResponse;

const adminError = (status: number, message: string): ApiError => new ApiError(status, { error: { code: status, message } });

export function adminResolver(env: Env, hooks: AdminHooks): (req: ApiRequest) => Dispatch {
  const router = new Router<AdminHandler>()
    .add('GET', '/info', () => json(200, hooks.info()))
    .add('GET', '/stats', () => json(200, env.stats.snapshot()))
    .add('POST', '/reset-stats', () => {
      env.stats.reset();
      return noContent();
    })
    .add('GET', '/faults', () => json(200, env.faults.current()))
    .add('PUT', '/faults', (req) => {
      try {
        env.faults.set(jsonBody(req) ?? {});
      } catch (err) {
        if (err instanceof FaultConfigError) throw adminError(400, err.message);
        throw err;
      }
      return json(200, env.faults.current());
    })
    .add('POST', '/expire-tokens', () => {
      hooks.expireTokens();
      return noContent();
    })
    .add('POST', '/application-credentials', (req) => {
      const body = jsonBody(req);
      if (!isObject(body) || typeof body.user !== 'string' || typeof body.name !== 'string') {
        throw adminError(400, 'body must be {"user": "<user name>", "name": "<credential name>"}');
      }
      try {
        return json(201, hooks.createApplicationCredential(body.user, body.name));
      } catch (err) {
        throw adminError(404, (err as Error).message);
      }
    });

  return (req) => {
    const match = router.match(req.method, req.path.slice(ADMIN_PREFIX.length) || '/');
    return {
      key: 'ADMIN',
      globalFaults: false,
      run: () => {
        if (!match) throw adminError(404, `no emulator admin route ${req.method} ${req.path}`);
        req.params = match.params;
        return match.route.handler(req);
      },
      faultError: (status) => adminError(status, 'fault'),
      rateLimitError: (status) => adminError(status, 'fault'),
      headers: () => ({}),
    };
  };
}
