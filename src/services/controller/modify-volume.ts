import { isNotFound, isOutcomeUnknown } from '../../cinder/errors.js';
import type { Volume, VolumeType } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, failedPrecondition, internal, invalidArgument, notFound } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import { parseMutableParameters } from './parameters.js';
import type { ModifyInput } from './requests.js';
import { waitWithin } from './wait.js';

/**
 * ControllerModifyVolume: a VolumeAttributesClass's `type` becomes a Cinder `os-retype`.
 *
 * Bare metal has no Nova, and Cinder migrates an attached volume by asking Nova to swap it: an
 * in-use volume is therefore always retyped with migration_policy `never`, whatever the class
 * says. Cinder then changes the type in place where it can (same backend, and the same extra
 * specs or a driver that retypes, like RBD) and otherwise leaves the volume as it was; that is
 * FAILED_PRECONDITION saying how to proceed. A detached volume may migrate when the class says
 * `migrationPolicy: on-demand`.
 *
 * Idempotent: a volume already of that type is OK at once; a retype in progress is waited for.
 * Within the deadline, else ABORTED (the retry picks it up).
 */
export function modifyVolumeHandler(d: HandlerDeps) {
  return async (req: ModifyInput, ctx: RpcContext): Promise<void> => {
    const wanted = parseMutableParameters(req.mutableParameters);
    let vol = await findVolume(d.cinder, req.volumeId, ctx);
    if (!vol) throw notFound(`volume ${req.volumeId} does not exist`);
    if (wanted.volumeType === undefined) return;
    const type = await volumeType(d, wanted.volumeType, ctx);
    if (vol.status === 'retyping') vol = await settle(d, vol, ctx);
    if (isOfType(vol, type)) return;
    if (vol.status !== 'available' && vol.status !== 'in-use') {
      throw failedPrecondition(`volume ${vol.id} is ${vol.status}; its type can be changed when it is available or in-use`);
    }
    const attached = vol.status === 'in-use';
    const policy = attached ? 'never' : wanted.migrationPolicy;
    try {
      await d.cinder.retypeVolume(vol.id, type.name, policy, ctx);
    } catch (err) {
      // A lost reply: the retype may have started. The wait below tells.
      if (!isOutcomeUnknown(err)) throw err;
    }
    const after = await settle(d, { ...vol, status: 'retyping' }, ctx);
    if (isOfType(after, type)) return;
    throw failedPrecondition(whyNotRetyped(vol, type, attached, policy));
  };
}

async function volumeType(d: HandlerDeps, nameOrId: string, ctx: RpcContext): Promise<VolumeType> {
  try {
    return await d.cinder.getVolumeType(nameOrId, ctx);
  } catch (err) {
    if (isNotFound(err)) throw invalidArgument(`mutable_parameters.type: volume type ${JSON.stringify(nameOrId)} does not exist`);
    throw err;
  }
}

/** Cinder shows a volume's type by name. */
function isOfType(vol: Volume, type: VolumeType): boolean {
  return vol.volumeType === type.name || vol.volumeType === type.id;
}

/** Waits until Cinder leaves `retyping`. */
async function settle(d: HandlerDeps, vol: Volume, ctx: RpcContext): Promise<Volume> {
  const r = await waitWithin(d.waiters.volumes, vol, (v) => (v.status.startsWith('error') ? 'failed' : v.status === 'retyping' ? 'pending' : 'done'), ctx, d.now);
  switch (r.outcome) {
    case 'done':
      return r.object;
    case 'failed':
      throw internal(`Cinder failed to retype volume ${vol.id} (status ${r.object.status}); an administrator must reset its state`);
    case 'gone':
      throw notFound(`volume ${vol.id} was deleted while its type was being changed`);
    case 'timeout':
      throw aborted(`volume ${vol.id} is still being retyped in Cinder; retry`);
  }
}

function whyNotRetyped(vol: Volume, type: VolumeType, attached: boolean, policy: string): string {
  const head = `Cinder did not change volume ${vol.id} from type ${JSON.stringify(vol.volumeType ?? '')} to ${JSON.stringify(type.name)}: it would have to migrate the volume to another backend`;
  if (attached) {
    return `${head}, and an attached volume is never migrated (Cinder would ask Nova to swap it, and there is no Nova on bare metal); ` +
      'stop the workload so the volume is detached, then apply the class again with migrationPolicy: on-demand';
  }
  return policy === 'never'
    ? `${head}, and the VolumeAttributesClass does not allow that; set its parameter migrationPolicy: on-demand to let Cinder migrate it`
    : `${head}, and the migration did not happen (see Cinder's messages: openstack volume message list)`;
}
