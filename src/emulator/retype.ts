import { getVolume } from './access.js';
import type { ActionHandler } from './actions.js';
import { backendOf, hostOf } from './backends.js';
import { badRequest, notFound } from './errors.js';
import { emptyHtml } from './http.js';
import type { VolumeTypeRecord } from './state.js';
import { fieldError, isObject, pyRepr, rejectUnknownKeys } from './validate.js';
import { specIsTrue } from './volume-types.js';

const POLICIES = ['on-demand', 'never', 'ON-DEMAND', 'NEVER'];

/**
 * os-retype, as Cinder (Zed) does it. The API checks the request and sets `retyping`; then:
 * - the new type's extra specs all equal the old ones on the same backend → the type changes in
 *   the database only; an RBD backend's driver also retypes in place whatever the specs;
 * - otherwise the volume would have to migrate: with migration_policy never (the default) the
 *   volume returns to its previous status with its old type (Cinder's "Retype requires migration
 *   but is not allowed"); with on-demand an available volume moves to the new type's backend.
 *   An attached one would need Nova to swap it: without Nova the migration fails and the volume
 *   keeps its type, as here.
 */
export const retype: ActionHandler = (req, ctx, env, arg) => {
  const v = getVolume(env, ctx, req.params.id ?? '');
  if (!isObject(arg)) throw fieldError('os-retype', arg, `${pyRepr(arg)} is not of type 'object'`);
  if (arg.new_type === undefined) throw fieldError('os-retype', arg, "'new_type' is a required property");
  rejectUnknownKeys('os-retype', arg, ['new_type', 'migration_policy']);
  if (typeof arg.new_type !== 'string') throw fieldError('new_type', arg.new_type, `${pyRepr(arg.new_type)} is not of type 'string'`);
  const policy = arg.migration_policy ?? null;
  if (policy !== null && (typeof policy !== 'string' || !POLICIES.includes(policy))) {
    throw fieldError('migration_policy', policy, `${pyRepr(policy)} is not one of ${pyRepr([...POLICIES, null])}`);
  }
  const to = env.store.typeByNameOrId(arg.new_type);
  if (!to) {
    // Cinder's get_by_name_or_id: a UUID-like reference is reported as an id, anything else as a name.
    const uuidLike = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(arg.new_type);
    throw notFound(uuidLike ? `Volume type ${arg.new_type} could not be found.` : `Volume type with name ${arg.new_type} could not be found.`);
  }
  const multiattach = specIsTrue(to.extraSpecs.multiattach);
  if (multiattach !== v.multiattach && v.status !== 'available') {
    throw badRequest(
      'Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, ' +
        `the specified volume however currently has a status of: ${v.status}.`,
    );
  }
  if ((v.status !== 'available' && v.status !== 'in-use') || v.typeId === to.id) {
    throw badRequest(
      'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a ' +
        'consistency group, requested type has to be different that the one from the volume, and for in-use volumes ' +
        'front-end qos specs cannot change.',
    );
  }
  const from = env.store.types.get(v.typeId);
  const previous = v.status;
  v.multiattach = multiattach;
  env.lifecycle.setStatus('volume', v, 'retyping');
  env.lifecycle.later('volume', v, () => {
    const inPlace = from !== undefined && backendOf(from) === backendOf(to) && (backendOf(to) === 'rbd' || sameSpecs(from, to));
    const migrate = !inPlace && String(policy).toLowerCase() === 'on-demand' && previous === 'available';
    if (inPlace || migrate) {
      v.typeId = to.id;
      v.host = hostOf(backendOf(to));
    } else {
      v.multiattach = from ? specIsTrue(from.extraSpecs.multiattach) : v.multiattach;
    }
    env.lifecycle.setStatus('volume', v, previous);
    return Promise.resolve();
  });
  return emptyHtml(202);
};

function sameSpecs(a: VolumeTypeRecord, b: VolumeTypeRecord): boolean {
  const ka = Object.keys(a.extraSpecs);
  return ka.length === Object.keys(b.extraSpecs).length && ka.every((k) => a.extraSpecs[k] === b.extraSpecs[k]);
}
