import { isNotFound } from '../../cinder/errors.js';
import type { QuotaUsageEntry } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { gibToBytes } from './capacity-range.js';
import type { HandlerDeps } from './deps.js';
import { parseVolumeParameters } from './parameters.js';
import type { CapacityInput, CapacityView } from './requests.js';
import { capabilityProblems, isMultiNode } from './volume-capabilities.js';

/**
 * GetCapacity: what this project may still allocate — the Cinder quota headroom
 * (limit − in_use − reserved GiB), also bounded by the per-type quota `gigabytes_<type>` when a
 * type is asked for. Backend pool capacity needs admin rights, so it is not consulted.
 *
 * An unlimited quota (-1) is reported as the largest int64: the field is required and must not
 * be negative, and omitting it would read as 0 (nothing fits). Capabilities this driver cannot
 * serve for the asked type (e.g. MULTI_NODE on a non-multiattach type) give 0.
 */
export const UNLIMITED_BYTES = 9223372036854775807n;

export function capacityHandler(d: HandlerDeps) {
  return async (req: CapacityInput, ctx: RpcContext): Promise<CapacityView> => {
    const params = parseVolumeParameters(req.parameters);
    const caps = req.capabilities;
    if (caps.length > 0) {
      const multiattach = caps.some(isMultiNode) && (await typeIsMultiattach(d, params.volumeType, ctx));
      if (capabilityProblems(caps, { multiattach }).length > 0) return { availableBytes: 0n };
    }
    const quota = await d.cinder.getQuotaUsage(ctx);
    const limits = [headroomGiB(quota.gigabytes)];
    if (params.volumeType) limits.push(headroomGiB(quota[`gigabytes_${params.volumeType}`]));
    const bounded = limits.filter((n): n is number => n !== undefined);
    const available = bounded.length === 0 ? UNLIMITED_BYTES : gibToBytes(Math.min(...bounded));
    const perVolume = quota.per_volume_gigabytes?.limit;
    return {
      availableBytes: available,
      ...(perVolume !== undefined && perVolume > 0 ? { maximumVolumeBytes: gibToBytes(perVolume) } : {}),
      minimumVolumeBytes: gibToBytes(1),
    };
  };
}

/** GiB still allocatable under one quota entry; undefined = unlimited or no such quota. */
export function headroomGiB(entry: QuotaUsageEntry | undefined): number | undefined {
  if (!entry || entry.limit < 0) return undefined;
  return Math.max(0, entry.limit - entry.inUse - entry.reserved);
}

async function typeIsMultiattach(d: HandlerDeps, volumeType: string | undefined, ctx: RpcContext): Promise<boolean> {
  if (!volumeType) return false;
  try {
    return (await d.cinder.getVolumeType(volumeType, ctx)).isMultiattach;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
