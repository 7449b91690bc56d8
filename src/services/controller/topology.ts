import type { Segments, TopologyWanted } from './requests.js';
import { TOPOLOGY_ZONE_KEY } from '../../util/package-info.js';

/**
 * Availability zones as CSI topology. Nodes report their zone under TOPOLOGY_ZONE_KEY; the
 * zone a volume is created in comes from the StorageClass `availability` parameter when set
 * (an explicit choice wins), else from the CO's requirements: the first preferred segment
 * (with WaitForFirstConsumer that is the chosen node's zone), then the first requisite one.
 */
export function zoneOfTopology(t: Segments | undefined): string | undefined {
  const zone = t?.[TOPOLOGY_ZONE_KEY];
  return zone ? zone : undefined;
}

export function zoneFromRequirements(req: TopologyWanted | undefined): string | undefined {
  if (!req) return undefined;
  for (const t of [...(req.preferred ?? []), ...(req.requisite ?? [])]) {
    const zone = zoneOfTopology(t);
    if (zone) return zone;
  }
  return undefined;
}

export function chooseZone(availability: string | undefined, req: TopologyWanted | undefined): string | undefined {
  return availability ?? zoneFromRequirements(req);
}

/**
 * What CreateVolume reports as accessible_topology: the zone Cinder actually placed the volume
 * in. With ignore-volume-az the Cinder zones have nothing to do with the nodes' zones (a common
 * bare-metal layout), so the volume is reported as reachable from everywhere (no topology).
 */
export function accessibleTopology(volumeZone: string | undefined, ignoreVolumeAz: boolean): Segments[] {
  if (ignoreVolumeAz || !volumeZone) return [];
  return [{ [TOPOLOGY_ZONE_KEY]: volumeZone }];
}
