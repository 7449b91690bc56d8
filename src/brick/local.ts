import { isAbsolute, normalize } from 'node:path';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { Exec } from '../host/exec.js';
import type { HostFs } from '../host/host-fs.js';
import { deviceSizeBytes, flushBuffers } from '../host/block-device.js';
import { Losetup } from '../host/losetup.js';
import { failedPrecondition, invalidArgument, notFound } from '../util/errors.js';
import type { LocalConnection } from './connection-data.js';
import type { AttachedDevice, ConnectOptions, Connector, DisconnectOptions } from './connector.js';

export interface LocalConnectorOptions {
  exec: Exec;
  fs: HostFs;
  log?: Logger;
}

/**
 * A volume that is already on this host: a block device used as it is, or a regular file
 * (the emulator's `local` backend) attached as a loop device and found again by its backing file.
 */
export class LocalConnector implements Connector<LocalConnection> {
  private readonly exec: Exec;
  private readonly fs: HostFs;
  private readonly log: Logger;
  private readonly losetup: Losetup;

  constructor(options: LocalConnectorOptions) {
    this.exec = options.exec;
    this.fs = options.fs;
    this.log = options.log ?? silentLogger();
    this.losetup = new Losetup(options.exec);
  }

  async connect(conn: LocalConnection, opts: ConnectOptions = {}): Promise<AttachedDevice> {
    const path = checkPath(conn.devicePath);
    const kind = await this.fs.kind(path);
    if (kind === undefined) throw notFound(`local volume ${path} does not exist`);
    if (kind === 'block') return { path: (await this.fs.realpath(path)) ?? path };
    if (kind !== 'file') throw failedPrecondition(`local volume ${path} is neither a block device nor a regular file`);
    const [existing] = await this.losetup.find(path, opts);
    if (existing) return { path: existing };
    const device = await this.losetup.attach(path, { readOnly: conn.accessMode === 'ro', signal: opts.signal });
    this.log.info({ file: path, device }, 'local volume attached as a loop device');
    return { path: device };
  }

  async findDevice(conn: LocalConnection, opts: { signal?: AbortSignal } = {}): Promise<AttachedDevice | undefined> {
    const path = checkPath(conn.devicePath);
    const kind = await this.fs.kind(path);
    if (kind === 'block') return { path: (await this.fs.realpath(path)) ?? path };
    if (kind !== 'file') return undefined;
    const [existing] = await this.losetup.find(path, opts);
    return existing ? { path: existing } : undefined;
  }

  async disconnect(conn: LocalConnection, _device: AttachedDevice | undefined, opts: DisconnectOptions = {}): Promise<void> {
    const path = checkPath(conn.devicePath);
    if ((await this.fs.kind(path)) !== 'file') return;
    // Found by backing file: these loop devices are this volume's, whatever they are named now.
    for (const dev of await this.losetup.find(path, opts)) {
      await flushBuffers(this.exec, dev, opts.signal);
      await this.losetup.detach(dev, opts);
      this.log.info({ file: path, device: dev }, 'loop device detached');
    }
  }

  async extend(conn: LocalConnection, device: AttachedDevice, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const path = checkPath(conn.devicePath);
    if ((await this.fs.kind(path)) === 'file') await this.losetup.setCapacity(device.path, opts);
    return deviceSizeBytes(this.fs, device.path);
  }
}

function checkPath(p: string): string {
  if (!isAbsolute(p) || normalize(p) !== p || p.split('/').includes('..')) {
    throw invalidArgument(`local device path ${JSON.stringify(p)} must be absolute and normalized`);
  }
  return p;
}
