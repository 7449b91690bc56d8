import { randomBytes } from 'node:crypto';
import { HttpCinderClient, type CinderClientConfig, type ClientDeps } from '../../src/cinder/index.js';
import { SEED_GROUP_TYPE } from '../../src/emulator/groups.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { setQuota } from '../helpers/cinder-quota.js';

/**
 * Chooses what the contract suite talks to.
 *
 * - Default: the emulator, in-process, over real HTTP — three variants: noauth, Keystone
 *   password, Keystone application credential.
 * - `CINDER_CONTRACT_TARGET=real`: a real Cinder (+ Keystone) described by the variables that
 *   real-cinder/up.sh writes to env.sh: CINDER_URL, CINDER_AUTH (keystone|noauth),
 *   CINDER_PROJECT_ID, CINDER_ENDPOINT, CINDER_TOKEN (noauth), OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
 *   OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME, OS_INTERFACE,
 *   OS_APPLICATION_CREDENTIAL_ID/_SECRET, KEYSTONE_ADMIN_USER/_PASSWORD/_PROJECT_NAME, CINDER_BACKEND,
 *   CINDER_MAX_MICROVERSION. Cases that need fault injection are skipped there.
 */

export type Variant = 'noauth' | 'password' | 'appcred';

export interface ContractTarget {
  /** e.g. "emulator/password", "real/noauth". */
  name: string;
  kind: 'emulator' | 'real';
  variant: Variant;
  config: CinderClientConfig;
  /** Present for the emulator: fault knobs and request statistics. */
  emulator?: RunningEmulator;
  /** The password planted in the config (keystone variants), to prove it never leaks. */
  plantedSecrets: string[];
  /** "emulator", or the real backend name ("file" exports real iSCSI connection_info). */
  backend: string;
  /** The highest microversion the target offers. */
  serverMaxVersion: string;
  /**
   * Volume types for retype: a base type, one with the very same extra specs (Cinder retypes in
   * place), and one on the same backend with another spec (the file and iSCSI drivers cannot
   * retype in place: it needs a migration). Empty where the real harness has no such types
   * (an RBD-only backend).
   */
  retypeTypes: { base: string; sameSpecs: string; otherSpecs: string };
  /** A public group type for group snapshots (the real harness creates CINDER_GROUP_TYPE). */
  groupType: string;
  /** The target runs a backup service (the real harness's cinder-backup, CINDER_BACKUP_SERVICE=1). */
  backups: boolean;
  /** Unique prefix of this run's object names. */
  runId: string;
  client(deps?: ClientDeps): HttpCinderClient;
  /** Sets quotas of the target's project with admin rights (undefined when impossible). */
  setProjectQuota?(limits: Record<string, number>): Promise<void>;
  teardown(): Promise<void>;
}

export type TargetKind = 'emulator' | 'real';

/** Whether a real Cinder is described by the environment (the real-Cinder tier is up). */
export function realTargetPresent(): boolean {
  return process.env.CINDER_CONTRACT_TARGET === 'real';
}

/**
 * Every (kind, variant) the suite runs: the emulator's three always — so the emulator stays
 * checked in every run — and the real Cinder's as well when the tier is up, so that the same
 * assertions hold for both and any difference shows.
 */
export function contractCases(): Array<[TargetKind, Variant]> {
  const cases: Array<[TargetKind, Variant]> = (['noauth', 'password', 'appcred'] as const).map((v) => ['emulator', v]);
  if (realTargetPresent()) for (const v of realVariants()) cases.push(['real', v]);
  return cases;
}

/** The variants the real target supports. */
function realVariants(): Variant[] {
  const auth = process.env.CINDER_AUTH ?? (process.env.OS_AUTH_URL ? 'keystone' : 'noauth');
  if (auth === 'noauth') return ['noauth'];
  return process.env.OS_APPLICATION_CREDENTIAL_ID ? ['password', 'appcred'] : ['password'];
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`CINDER_CONTRACT_TARGET=real needs ${name} (source the env.sh that real-cinder/up.sh writes)`);
  return v;
}

const PROJECT_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';

export async function buildTarget(variant: Variant, kind: TargetKind = 'emulator'): Promise<ContractTarget> {
  const runId = `ct-${randomBytes(4).toString('hex')}`;
  const made: HttpCinderClient[] = [];
  const track = (c: HttpCinderClient): HttpCinderClient => {
    made.push(c);
    return c;
  };
  const closeAll = (): void => made.forEach((c) => c.close());

  if (kind === 'real') {
    const cinderUrl = env('CINDER_URL').replace(/\/+$/, '');
    const base = {
      name: `real/${variant}`,
      kind: 'real' as const,
      variant,
      backend: process.env.CINDER_BACKEND ?? 'unknown',
      serverMaxVersion: process.env.CINDER_MAX_MICROVERSION ?? '3.70',
      retypeTypes: { base: process.env.CINDER_VOLUME_TYPE ?? '', sameSpecs: process.env.CINDER_RETYPE_SAME_SPECS_TYPE ?? '', otherSpecs: process.env.CINDER_RETYPE_OTHER_SPECS_TYPE ?? '' },
      backups: process.env.CINDER_BACKUP_SERVICE === '1',
      groupType: process.env.CINDER_GROUP_TYPE ?? '',
      runId,
    };
    if (variant === 'noauth') {
      const project = env('CINDER_PROJECT_ID');
      const user = (process.env.CINDER_TOKEN ?? `admin:${project}`).split(':')[0] ?? 'admin';
      const config: CinderClientConfig = { authStrategy: 'noauth', cinderEndpoint: process.env.CINDER_ENDPOINT ?? `${cinderUrl}/v3/${project}`, username: user };
      return {
        ...base,
        config,
        plantedSecrets: [],
        client: (deps) => track(new HttpCinderClient(config, deps)),
        // noauth requests run with an admin context
        setProjectQuota: async (limits) => setQuota(track(new HttpCinderClient(config)), limits),
        teardown: async () => closeAll(),
      };
    }
    const common = {
      authStrategy: 'keystone' as const,
      authUrl: env('OS_AUTH_URL'),
      region: process.env.OS_REGION_NAME,
      interface: (process.env.OS_INTERFACE as CinderClientConfig['interface']) ?? 'public',
    };
    const config: CinderClientConfig =
      variant === 'appcred'
        ? { ...common, applicationCredentialId: env('OS_APPLICATION_CREDENTIAL_ID'), applicationCredentialSecret: env('OS_APPLICATION_CREDENTIAL_SECRET') }
        : {
            ...common,
            username: env('OS_USERNAME'),
            password: env('OS_PASSWORD'),
            userDomainName: process.env.OS_USER_DOMAIN_NAME ?? 'Default',
            projectName: env('OS_PROJECT_NAME'),
            projectDomainName: process.env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
          };
    const adminUser = process.env.KEYSTONE_ADMIN_USER;
    const adminPassword = process.env.KEYSTONE_ADMIN_PASSWORD;
    const projectId = process.env.CINDER_PROJECT_ID;
    return {
      ...base,
      config,
      plantedSecrets: [config.password, config.applicationCredentialSecret].filter((s): s is string => !!s),
      client: (deps) => track(new HttpCinderClient(config, deps)),
      setProjectQuota:
        adminUser && adminPassword && projectId
          ? async (limits) => {
              const admin = track(
                new HttpCinderClient({
                  ...common,
                  username: adminUser,
                  password: adminPassword,
                  userDomainName: 'Default',
                  projectName: process.env.KEYSTONE_ADMIN_PROJECT_NAME ?? 'admin',
                  projectDomainName: 'Default',
                }),
              );
              await setQuota(admin, limits, projectId);
            }
          : undefined,
      teardown: async () => closeAll(),
    };
  }

  // ---- the emulator
  const password = `pw-${randomBytes(9).toString('base64url')}-PLANTED`;
  const adminPassword = `adm-${randomBytes(9).toString('base64url')}`;
  const emulator = await startEmulator({
    keystonePort: variant === 'noauth' ? undefined : 0,
    projectId: PROJECT_ID,
    users: [
      { name: 'csi', password, project: 'csi' },
      { name: 'cloud-admin', password: adminPassword, project: 'admin', roles: ['admin'] },
    ],
    quotas: { volumes: 100, snapshots: 100, gigabytes: 2000 },
    volumeTypes: [
      { name: 'iscsi-gold', description: 'iscsi, the same extra specs', extraSpecs: { volume_backend_name: 'iscsi' } },
      { name: 'iscsi-tier2', description: 'iscsi, another extra spec', extraSpecs: { volume_backend_name: 'iscsi', 'csi-test:tier': '2' } },
    ],
  });
  const base = {
    name: `emulator/${variant}`,
    kind: 'emulator' as const,
    variant,
    emulator,
    backend: 'emulator',
    serverMaxVersion: '3.70',
    retypeTypes: { base: 'iscsi', sameSpecs: 'iscsi-gold', otherSpecs: 'iscsi-tier2' },
    backups: true,
    groupType: SEED_GROUP_TYPE,
    runId,
    teardown: async () => {
      closeAll();
      await emulator.stop();
    },
  };
  if (variant === 'noauth') {
    const config: CinderClientConfig = { authStrategy: 'noauth', cinderEndpoint: emulator.cinderEndpoint };
    return {
      ...base,
      config,
      plantedSecrets: [],
      client: (deps) => track(new HttpCinderClient(config, deps)),
      setProjectQuota: async (limits) => setQuota(track(new HttpCinderClient(config)), limits),
    };
  }
  const authUrl = emulator.keystoneUrl as string;
  let config: CinderClientConfig;
  const planted = [password];
  if (variant === 'appcred') {
    const cred = emulator.createApplicationCredential('csi', `contract-${runId}`);
    planted.push(cred.secret);
    config = { authStrategy: 'keystone', authUrl, applicationCredentialId: cred.id, applicationCredentialSecret: cred.secret };
  } else {
    config = { authStrategy: 'keystone', authUrl, username: 'csi', password, userDomainName: 'Default', projectName: 'csi', projectDomainName: 'Default' };
  }
  return {
    ...base,
    config,
    plantedSecrets: planted,
    client: (deps) => track(new HttpCinderClient(config, deps)),
    setProjectQuota: async (limits) => {
      const admin = track(
        new HttpCinderClient({ authStrategy: 'keystone', authUrl, username: 'cloud-admin', password: adminPassword, userDomainName: 'Default', projectName: 'admin', projectDomainName: 'Default' }),
      );
      await setQuota(admin, limits, emulator.projectId);
    },
  };
}
