import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this file in both src/util and dist/util. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackageJson {
  name: string;
  version: string;
}

let cached: PackageJson | undefined;
export function packageInfo(): PackageJson {
  if (!cached) {
    const parsed: unknown = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const p = parsed as Partial<PackageJson>;
    if (typeof p.name !== 'string' || typeof p.version !== 'string') throw new Error('package.json lacks name or version');
    cached = { name: p.name, version: p.version };
  }
  return cached;
}

export const DRIVER_NAME = 'cinder.metal.csi.kungze.io';
/** Topology key for the Cinder availability zone. */
export const TOPOLOGY_ZONE_KEY = 'topology.cinder.metal.csi.kungze.io/zone';
