import type { CinderContext, CinderHandler, Env } from './env.js';
import { badRequest } from './errors.js';
import { jsonBody, type ApiRequest, type ApiResponse } from './http.js';
import { isObject, type Json } from './validate.js';

/**
 * POST /<collection>/{id}/action: the body has exactly one key naming the action (Cinder's
 * action_peek), anything else is "Malformed request body"; an unknown name is "There is no such
 * action". Each action is counted in the stats.
 */
export type ActionHandler = (req: ApiRequest, ctx: CinderContext, env: Env, arg: Json) => ApiResponse | Promise<ApiResponse>;

export function actionDispatcher(actions: Record<string, ActionHandler>): CinderHandler {
  return (req, ctx, env) => {
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) throw badRequest('Malformed request body');
    const [name, arg] = Object.entries(body)[0] ?? ['', null];
    env.stats.action(name);
    const handler = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (!handler) throw badRequest(`There is no such action: ${name}`);
    return handler(req, ctx, env, arg);
  };
}
