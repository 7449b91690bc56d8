import { parseArgs } from 'node:util';
import { DEFAULTS, type AppOptions, type HostExecMode } from '../app/options.js';
import type { Mode } from '../services/capabilities.js';

/** A flag problem: the CLI prints its message as one line and exits 2. */
export class UsageError extends Error {}

export const USAGE = `Usage: cinder-metal-csi [flags]
       cinder-metal-csi emulator [--port 8776] [--keystone-port 5000] [--delay-ms N] [--faults FILE]
       cinder-metal-csi demo [--delay-ms N] [--verbose]

CSI driver that gives bare-metal Kubernetes clusters volumes from OpenStack Cinder.

Flags (environment variable in brackets):
  --endpoint URL            CSI socket, unix:///path or tcp://host:port [CSI_ENDPOINT] (default ${DEFAULTS.endpoint})
  --mode MODE               controller | node | all [CSI_MODE] (required)
  --node-name NAME          this node's Kubernetes name [NODE_NAME] (node and all modes)
  --cloud-config FILE       cloud.conf with [Global] and [BlockStorage] [CLOUD_CONFIG] (controller and all modes)
  --log-level LEVEL         trace|debug|info|warn|error|fatal|silent [LOG_LEVEL] (default ${DEFAULTS.logLevel})
  --http-endpoint [H]:PORT  serve /metrics and /healthz [HTTP_ENDPOINT]
  --kubelet-dir DIR         kubelet root; staging and target paths must be under it [KUBELET_DIR] (default ${DEFAULTS.kubeletDir})
  --state-dir DIR           node state (node key pair) [STATE_DIR] (default ${DEFAULTS.stateDir})
  --node-ip IP              storage network address sent to Cinder [NODE_IP] (default: the default route's address)
  --node-zone ZONE          availability zone of this node [NODE_ZONE]
  --max-volumes-per-node N  volumes this node may attach [MAX_VOLUMES_PER_NODE]
  --host-exec MODE          direct | nsenter | chroot: where host tools run [HOST_EXEC] (default ${DEFAULTS.hostExec})
  --connector-registry R    kubernetes | dir:/path: where nodes publish their connector facts [CONNECTOR_REGISTRY]
                            (default: kubernetes in a pod, else dir:<state dir>/connectors)
  --multipath MODE          auto | on | off: ask Cinder for every path of a volume [MULTIPATH] (default auto: when multipathd runs)
  --shutdown-grace SECONDS  how long in-flight RPCs may finish on SIGTERM [SHUTDOWN_GRACE] (default ${DEFAULTS.shutdownGraceSeconds})
  -h, --help                this text
  -v, --version             the version
`;

/** Every flag but --help and --version, with its environment variable. */
export const FLAGS = {
  endpoint: { type: 'string', env: 'CSI_ENDPOINT' },
  mode: { type: 'string', env: 'CSI_MODE' },
  'node-name': { type: 'string', env: 'NODE_NAME' },
  'cloud-config': { type: 'string', env: 'CLOUD_CONFIG' },
  'log-level': { type: 'string', env: 'LOG_LEVEL' },
  'http-endpoint': { type: 'string', env: 'HTTP_ENDPOINT' },
  'kubelet-dir': { type: 'string', env: 'KUBELET_DIR' },
  'state-dir': { type: 'string', env: 'STATE_DIR' },
  'node-ip': { type: 'string', env: 'NODE_IP' },
  'node-zone': { type: 'string', env: 'NODE_ZONE' },
  'max-volumes-per-node': { type: 'string', env: 'MAX_VOLUMES_PER_NODE' },
  'host-exec': { type: 'string', env: 'HOST_EXEC' },
  'connector-registry': { type: 'string', env: 'CONNECTOR_REGISTRY' },
  multipath: { type: 'string', env: 'MULTIPATH' },
  'shutdown-grace': { type: 'string', env: 'SHUTDOWN_GRACE' },
} as const;

export type ParsedCli = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: AppOptions };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): ParsedCli {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
    values = parsed.values;
  } catch (err) {
    throw new UsageError(cleanParseError((err as Error).message));
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const get = (flag: keyof typeof FLAGS): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[FLAGS[flag].env];
    return e === undefined || e === '' ? undefined : e;
  };

  const mode = get('mode');
  if (!mode) throw new UsageError('--mode is required (controller, node or all)');
  if (mode !== 'controller' && mode !== 'node' && mode !== 'all') {
    throw new UsageError(`--mode must be controller, node or all, not ${JSON.stringify(mode)}`);
  }
  const logLevel = get('log-level') ?? DEFAULTS.logLevel;
  if (!(LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  }
  const hostExec = get('host-exec') ?? DEFAULTS.hostExec;
  if (hostExec !== 'direct' && hostExec !== 'nsenter' && hostExec !== 'chroot') {
    throw new UsageError('--host-exec must be direct, nsenter or chroot');
  }
  const registry = get('connector-registry');
  if (registry !== undefined && registry !== 'kubernetes' && !/^dir:\/./.test(registry)) {
    throw new UsageError('--connector-registry must be kubernetes or dir:<absolute path>');
  }
  const multipath = get('multipath');
  if (multipath !== undefined && multipath !== 'auto' && multipath !== 'on' && multipath !== 'off') {
    throw new UsageError('--multipath must be auto, on or off');
  }
  const nodeName = get('node-name');
  if (mode !== 'controller' && !nodeName) throw new UsageError(`--node-name (or NODE_NAME) is required in ${mode} mode`);
  const cloudConfig = get('cloud-config');
  if (mode !== 'node' && !cloudConfig) throw new UsageError(`--cloud-config (or CLOUD_CONFIG) is required in ${mode} mode`);
  const maxVolumes = optionalInt(get('max-volumes-per-node'), '--max-volumes-per-node', 1, 4096);
  const grace = optionalInt(get('shutdown-grace'), '--shutdown-grace', 0, 3600) ?? DEFAULTS.shutdownGraceSeconds;
  const kubeletDir = absolute(get('kubelet-dir') ?? DEFAULTS.kubeletDir, '--kubelet-dir');
  const stateDir = absolute(get('state-dir') ?? DEFAULTS.stateDir, '--state-dir');

  const options: AppOptions = {
    mode: mode as Mode,
    endpoint: get('endpoint') ?? DEFAULTS.endpoint,
    logLevel: logLevel as AppOptions['logLevel'],
    kubeletDir,
    stateDir,
    hostExec: hostExec as HostExecMode,
    shutdownGraceSeconds: grace,
  };
  if (nodeName) options.nodeName = nodeName;
  if (cloudConfig) options.cloudConfig = cloudConfig;
  const optional = { httpEndpoint: get('http-endpoint'), nodeIp: get('node-ip'), nodeZone: get('node-zone') };
  for (const [k, v] of Object.entries(optional)) if (v) (options as unknown as Record<string, string>)[k] = v;
  if (maxVolumes !== undefined) options.maxVolumesPerNode = maxVolumes;
  if (registry !== undefined) options.connectorRegistry = registry;
  if (multipath !== undefined) options.multipath = multipath;
  return { kind: 'run', options };
}

function optionalInt(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

function absolute(v: string, flag: string): string {
  if (!v.startsWith('/')) throw new UsageError(`${flag} must be an absolute path`);
  return v.replace(/\/+$/, '') || '/';
}

/** node:util's messages span lines and suggest "--"; keep one clear line. */
function cleanParseError(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/\. To specify a positional argument.*$/, '').trim();
}
