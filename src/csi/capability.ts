import type { VolumeCapability__Output } from '../generated/csi/v1/VolumeCapability.js';
import { ACCESS_MODES, type AccessMode } from '../services/access-modes.js';
import type { Capability } from '../services/controller/requests.js';
import { invalidArgument } from '../util/errors.js';

/**
 * The shape of a volume capability, the one reading of it both halves share: an access type
 * (mount or block) and a known access mode, or the part that is missing or wrong.
 */
export type CapabilityShape =
  | { ok: true; accessType: 'mount' | 'block'; mode: AccessMode }
  | { ok: false; part: 'access_type'; message: string }
  | { ok: false; part: 'access_mode'; message: string };

const KNOWN_MODES: ReadonlySet<string> = new Set(ACCESS_MODES);

export function capabilityShape(cap: VolumeCapability__Output): CapabilityShape {
  const accessType = cap.access_type ?? (cap.mount ? 'mount' : cap.block ? 'block' : undefined);
  if (accessType === undefined) return { ok: false, part: 'access_type', message: 'access_type (mount or block) is required' };
  const mode = String(cap.access_mode?.mode ?? 'UNKNOWN');
  if (!KNOWN_MODES.has(mode)) return { ok: false, part: 'access_mode', message: `access_mode ${JSON.stringify(mode)} is not a valid access mode` };
  return { ok: true, accessType, mode: mode as AccessMode };
}

/** One capability for the controller; a malformed one is INVALID_ARGUMENT naming the field. */
export function parseCapability(cap: VolumeCapability__Output | null | undefined, field: string): Capability {
  if (!cap) throw invalidArgument(`${field} is required`);
  const shape = capabilityShape(cap);
  if (!shape.ok) throw invalidArgument(`${field}: ${shape.message}`);
  return { accessType: shape.accessType, mode: shape.mode, fsType: shape.accessType === 'mount' ? (cap.mount?.fs_type ?? '') : '' };
}

/** A list of capabilities; `required` refuses an empty one. */
export function parseCapabilities(caps: readonly VolumeCapability__Output[] | undefined, field: string, required: boolean): Capability[] {
  const list = caps ?? [];
  if (required && list.length === 0) throw invalidArgument(`${field}: at least one volume capability is required`);
  return list.map((c) => parseCapability(c, field));
}
