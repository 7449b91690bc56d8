import { getVolume } from './access.js';
import { actionDispatcher, type ActionHandler } from './actions.js';
import { detach } from './attachments.js';
import { badRequest, forbiddenPolicy, serverError } from './errors.js';
import { resizeFile } from './files.js';
import { emptyHtml } from './http.js';
import { atLeast } from './microversion.js';
import { reserve } from './quotas.js';
import { retype } from './retype.js';
import { fieldError, isObject, optionalString, pyRepr, rejectUnknownKeys, sizeField } from './validate.js';
import { beginDelete } from './volumes.js';

/** Volume actions: os-extend, os-retype (retype.ts), and the admin actions os-reset_status, os-force_delete, os-force_detach. */

const extend: ActionHandler = (req, ctx, env, arg) => {
  const v = getVolume(env, ctx, req.params.id ?? '');
  if (!isObject(arg)) throw fieldError('os-extend', arg, `${pyRepr(arg)} is not of type 'object'`);
  if (arg.new_size === undefined) throw fieldError('os-extend', arg, "'new_size' is a required property");
  rejectUnknownKeys('os-extend', arg, ['new_size']);
  const newSize = sizeField('new_size', arg.new_size) ?? 0;
  if (newSize <= v.size) {
    throw badRequest(
      `Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`,
    );
  }
  const inUseAllowed = atLeast(ctx.version, '3.42') && v.status === 'in-use';
  if (v.status !== 'available' && !inUseAllowed) {
    throw badRequest(
      `Invalid volume: Volume ${v.id} status must be '{'status': 'available'}' to extend, currently ${v.status}.`,
    );
  }
  const typeName = env.store.types.get(v.typeId)?.name ?? '';
  reserve(env, v.projectId, { gigabytes: newSize - v.size, [`gigabytes_${typeName}`]: newSize - v.size });
  const previous = v.status;
  const fail = env.faults.takeErrorOnExtend();
  if (fail) env.stats.fault('errorOnExtend');
  env.lifecycle.setStatus('volume', v, 'extending');
  env.lifecycle.later('volume', v, async () => {
    if (fail) {
      env.lifecycle.setStatus('volume', v, 'error_extending');
      return;
    }
    try {
      if (v.filePath) await resizeFile(v.filePath, newSize);
      v.size = newSize;
      env.lifecycle.setStatus('volume', v, previous);
    } catch (err) {
      console.error(`cinder emulator: extending volume ${v.id} failed: ${(err as Error).message}`);
      env.lifecycle.setStatus('volume', v, 'error_extending');
    }
  });
  return emptyHtml(202);
};

const VOLUME_STATUSES = [
  'available', 'creating', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing', 'attaching',
  'in-use', 'detaching', 'maintenance', 'reserved', 'extending', 'error_extending', 'error_restoring',
  'downloading', 'uploading', 'retyping', 'backing-up', 'restoring-backup', 'awaiting-transfer',
];

const resetStatus: ActionHandler = (req, ctx, env, arg) => {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:volume_admin_actions:reset_status');
  const v = getVolume(env, ctx, req.params.id ?? '');
  if (!isObject(arg)) throw fieldError('os-reset_status', arg, `${pyRepr(arg)} is not of type 'object'`);
  const status = optionalString('status', arg.status);
  const attachStatus = optionalString('attach_status', arg.attach_status);
  if (status && !VOLUME_STATUSES.includes(status)) {
    throw fieldError('status', status, `${pyRepr(status)} is not one of ${pyRepr(VOLUME_STATUSES)}`);
  }
  if (attachStatus && attachStatus !== 'attached' && attachStatus !== 'detached') {
    throw fieldError('attach_status', attachStatus, `${pyRepr(attachStatus)} is not one of ['attached', 'detached']`);
  }
  if (!status && !attachStatus && arg.migration_status === undefined) {
    throw badRequest('Must specify \'status\', \'attach_status\' or \'migration_status\' for update.');
  }
  if (attachStatus === 'detached') {
    for (const a of env.store.attachmentsOf(v.id)) {
      env.stats.transition('attachment', a.id, a.status, 'deleted');
      env.store.removeAttachment(a);
    }
    v.attachStatus = 'detached';
  } else if (attachStatus === 'attached') {
    v.attachStatus = 'attached';
  }
  if (status) env.lifecycle.setStatus('volume', v, status);
  return emptyHtml(202);
};

const forceDelete: ActionHandler = (req, ctx, env) => {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:volume_admin_actions:force_delete');
  const v = getVolume(env, ctx, req.params.id ?? '');
  const snaps = env.store.snapshotsOf(v.id);
  if (snaps.length > 0) throw badRequest(`Invalid volume: Volume ${v.id} still has ${snaps.length} dependent snapshots.`);
  beginDelete(env, v, []);
  return emptyHtml(202);
};

const forceDetach: ActionHandler = (req, ctx, env, arg) => {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:volume_admin_actions:force_detach');
  const v = getVolume(env, ctx, req.params.id ?? '');
  const wanted = isObject(arg) && typeof arg.attachment_id === 'string' ? arg.attachment_id : undefined;
  const targets = env.store.attachmentsOf(v.id).filter((a) => wanted === undefined || a.id === wanted);
  // Same Nova check as DELETE /attachments (OSSA-2023-003): without Nova it is a 500.
  if (targets.some((a) => a.instanceUuid !== null && a.connectionInfo !== null)) throw serverError(500);
  for (const a of targets) detach(env, a);
  return emptyHtml(202);
};

/**
 * os-update_readonly_flag: Cinder keeps it in the volume's admin metadata; an attachment made
 * afterwards is "ro" and its connection_info says access_mode "ro", whatever mode was asked.
 */
const updateReadonlyFlag: ActionHandler = (req, ctx, env, arg) => {
  const v = getVolume(env, ctx, req.params.id ?? '');
  if (!isObject(arg)) throw fieldError('os-update_readonly_flag', arg, `${pyRepr(arg)} is not of type 'object'`);
  if (arg.readonly === undefined) throw fieldError('os-update_readonly_flag', arg, "'readonly' is a required property");
  rejectUnknownKeys('os-update_readonly_flag', arg, ['readonly']);
  const flag = parseBoolean(arg.readonly);
  if (flag === undefined) throw fieldError('readonly', arg.readonly, `${pyRepr(arg.readonly)} is not of type 'boolean', 'string'`);
  if (v.status !== 'available' && v.status !== 'in-use') {
    throw badRequest(`Invalid volume: Volume status must be available or in-use to update readonly flag, but current status is: ${v.status}.`);
  }
  v.readonly = flag;
  return emptyHtml(202);
};

/** Cinder's parameter_types.boolean: true/false, or one of its strings. */
function parseBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  if (['true', '1', 't', 'y', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'f', 'n', 'no', 'off'].includes(s)) return false;
  return undefined;
}

export const volumeAction = actionDispatcher({
  'os-extend': extend,
  'os-retype': retype,
  'os-update_readonly_flag': updateReadonlyFlag,
  'os-reset_status': resetStatus,
  'os-force_delete': forceDelete,
  'os-force_detach': forceDetach,
});
