import type { Volume } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { DriverError, notFound } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import { parseMutableParameters, parseVolumeParameters } from './parameters.js';
import type { Validation, ValidateInput } from './requests.js';
import { capabilityProblems } from './volume-capabilities.js';
import { volumeContextOf } from './volume-view.js';

/**
 * ValidateVolumeCapabilities: `confirmed` only when every capability is served for this volume
 * and the given parameters and volume_context describe it; otherwise a message saying what does
 * not fit. Malformed requests are INVALID_ARGUMENT; a missing volume NOT_FOUND.
 */
export function validateCapabilitiesHandler(d: HandlerDeps) {
  return async (req: ValidateInput, ctx: RpcContext): Promise<Validation> => {
    const { volumeId } = req;
    const vol = await findVolume(d.cinder, volumeId, ctx);
    if (!vol) throw notFound(`volume ${volumeId} does not exist`);

    const unsupported = capabilityProblems(req.capabilities, { multiattach: vol.multiattach });
    const mismatch = [...unsupported, ...parameterMismatch(req.parameters, req.mutableParameters, vol), ...contextMismatch(req.volumeContext, vol)];
    if (mismatch.length > 0) return { confirmed: false, message: mismatch.join('; ') };
    return { confirmed: true };
  };
}

/** The StorageClass's parameters, and a VolumeAttributesClass's (whose type wins), against the volume. */
function parameterMismatch(params: Record<string, string>, mutableParams: Record<string, string>, vol: Volume): string[] {
  let parsed;
  let mutable;
  try {
    parsed = parseVolumeParameters(params);
    mutable = parseMutableParameters(mutableParams);
  } catch (err) {
    if (err instanceof DriverError) return [err.message];
    throw err;
  }
  const out: string[] = [];
  const type = mutable.volumeType ?? parsed.volumeType;
  if (type !== undefined && type !== vol.volumeType) {
    out.push(`the volume's type is ${JSON.stringify(vol.volumeType ?? '')}, not ${JSON.stringify(type)}`);
  }
  if (parsed.availability !== undefined && parsed.availability !== vol.availabilityZone) {
    out.push(`the volume is in zone ${JSON.stringify(vol.availabilityZone ?? '')}, not ${JSON.stringify(parsed.availability)}`);
  }
  return out;
}

function contextMismatch(given: Record<string, string> | undefined, vol: Volume): string[] {
  const expected = volumeContextOf(vol);
  const out: string[] = [];
  for (const [k, v] of Object.entries(given ?? {})) {
    if (expected[k] !== v) out.push(`volume_context ${JSON.stringify(k)} does not match the volume`);
  }
  return out;
}
