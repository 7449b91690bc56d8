import { getSnapshot, getVolume } from './access.js';
import { createGroup, createGroupSnapshot, createGroupType, deleteGroupSnapshot, groupAction, listGroups, listGroupSnapshots, listGroupTypes, showGroup, showGroupSnapshot, updateGroup } from './groups.js';
import { createBackup, deleteBackup, listBackupsDetail, listBackupsSummary, showBackup } from './backups.js';
import { attachmentAction, createAttachment, deleteAttachment, listAttachmentsDetail, listAttachmentsSummary, showAttachment, updateAttachment } from './attachments.js';
import type { CinderHandler } from './env.js';
import { notFound, RESOURCE_NOT_FOUND } from './errors.js';
import { metadataHandlers } from './metadata.js';
import { atLeast } from './microversion.js';
import { showLimits, showQuotaDefaults, showQuotaSet, updateQuotaSet } from './quotas.js';
import { Router } from './router.js';
import { createSnapshot, deleteSnapshot, listSnapshotsDetail, listSnapshotsSummary, showSnapshot, snapshotAction, updateSnapshot } from './snapshots.js';
import { volumeAction } from './volume-actions.js';
import { listExtraSpecs, listTypes, showExtraSpec, showType } from './volume-type-api.js';
import { createVolume, deleteVolume, listVolumesDetail, listVolumesSummary, showVolume, updateVolume } from './volumes.js';
import { listPools, listServices, listZones } from './zones.js';

/**
 * The Cinder v3 routes, relative to /v3[/{project_id}]. Templates double as stats keys and
 * fault keys. Literal segments come before {id} so /volumes/detail is not a volume id.
 */

/** A method that needs a microversion answers 404 below it, as Cinder's versioned methods do. */
function since(version: string, h: CinderHandler): CinderHandler {
  return (req, ctx, env) => {
    if (!atLeast(ctx.version, version)) throw notFound(RESOURCE_NOT_FOUND);
    return h(req, ctx, env);
  };
}

export function cinderRouter(): Router<CinderHandler> {
  const volMeta = metadataHandlers(getVolume, 'Volume');
  const snapMeta = metadataHandlers(getSnapshot, 'Snapshot');
  const r = new Router<CinderHandler>();
  r.add('GET', '/volumes', listVolumesSummary)
    .add('GET', '/volumes/detail', listVolumesDetail)
    .add('POST', '/volumes', createVolume)
    .add('GET', '/volumes/{id}', showVolume)
    .add('PUT', '/volumes/{id}', updateVolume)
    .add('DELETE', '/volumes/{id}', deleteVolume)
    .add('POST', '/volumes/{id}/action', volumeAction)
    .add('GET', '/volumes/{id}/metadata', volMeta.index)
    .add('POST', '/volumes/{id}/metadata', volMeta.create)
    .add('PUT', '/volumes/{id}/metadata', volMeta.replace)
    .add('GET', '/volumes/{id}/metadata/{key}', volMeta.show)
    .add('PUT', '/volumes/{id}/metadata/{key}', volMeta.updateKey)
    .add('DELETE', '/volumes/{id}/metadata/{key}', volMeta.remove)
    .add('GET', '/group_types', since('3.11', listGroupTypes))
    .add('POST', '/group_types', since('3.11', createGroupType))
    .add('GET', '/groups', since('3.13', listGroups))
    .add('GET', '/groups/detail', since('3.13', listGroups))
    .add('POST', '/groups', since('3.13', createGroup))
    .add('GET', '/groups/{id}', since('3.13', showGroup))
    .add('PUT', '/groups/{id}', since('3.13', updateGroup))
    .add('POST', '/groups/{id}/action', since('3.13', groupAction))
    .add('GET', '/group_snapshots', since('3.14', listGroupSnapshots))
    .add('GET', '/group_snapshots/detail', since('3.14', listGroupSnapshots))
    .add('POST', '/group_snapshots', since('3.14', createGroupSnapshot))
    .add('GET', '/group_snapshots/{id}', since('3.14', showGroupSnapshot))
    .add('DELETE', '/group_snapshots/{id}', since('3.14', deleteGroupSnapshot))
    .add('GET', '/backups', listBackupsSummary)
    .add('GET', '/backups/detail', listBackupsDetail)
    .add('POST', '/backups', createBackup)
    .add('GET', '/backups/{id}', showBackup)
    .add('DELETE', '/backups/{id}', deleteBackup)
    .add('GET', '/snapshots', listSnapshotsSummary)
    .add('GET', '/snapshots/detail', listSnapshotsDetail)
    .add('POST', '/snapshots', createSnapshot)
    .add('GET', '/snapshots/{id}', showSnapshot)
    .add('PUT', '/snapshots/{id}', updateSnapshot)
    .add('DELETE', '/snapshots/{id}', deleteSnapshot)
    .add('POST', '/snapshots/{id}/action', snapshotAction)
    .add('GET', '/snapshots/{id}/metadata', snapMeta.index)
    .add('POST', '/snapshots/{id}/metadata', snapMeta.create)
    .add('PUT', '/snapshots/{id}/metadata', snapMeta.replace)
    .add('GET', '/snapshots/{id}/metadata/{key}', snapMeta.show)
    .add('PUT', '/snapshots/{id}/metadata/{key}', snapMeta.updateKey)
    .add('DELETE', '/snapshots/{id}/metadata/{key}', snapMeta.remove)
    .add('GET', '/attachments', since('3.27', listAttachmentsSummary))
    .add('GET', '/attachments/detail', since('3.27', listAttachmentsDetail))
    .add('POST', '/attachments', since('3.27', createAttachment))
    .add('GET', '/attachments/{id}', since('3.27', showAttachment))
    .add('PUT', '/attachments/{id}', since('3.27', updateAttachment))
    .add('DELETE', '/attachments/{id}', since('3.27', deleteAttachment))
    .add('POST', '/attachments/{id}/action', since('3.27', attachmentAction))
    .add('GET', '/types', listTypes)
    .add('GET', '/types/{id}', showType)
    .add('GET', '/types/{id}/extra_specs', listExtraSpecs)
    .add('GET', '/types/{id}/extra_specs/{key}', showExtraSpec)
    .add('GET', '/os-availability-zone', listZones)
    .add('GET', '/limits', showLimits)
    .add('GET', '/os-quota-sets/{project}/defaults', showQuotaDefaults)
    .add('GET', '/os-quota-sets/{project}', showQuotaSet)
    .add('PUT', '/os-quota-sets/{project}', updateQuotaSet)
    .add('GET', '/os-services', listServices)
    .add('GET', '/scheduler-stats/get_pools', listPools);
  return r;
}
