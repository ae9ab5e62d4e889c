// Each environment's /tmp as Lambda has it: ephemeral storage of the function's size (512 MB by
// default, up to 10 GB), apart from its memory. A tmpfs would be counted against the memory limit
// (and a 600 MB write at 512 MB of memory would be an OOM kill, not ENOSPC), so the Docker proxy
// makes a file of that size, formats it (ext2, busybox mke2fs), attaches it to a loop device and
// hands it to Docker as the container's /tmp volume. Where loop devices cannot be used (rootless
// Docker, a locked-down engine), the proxy says why at start and falls back to a tmpfs.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { DockerApi } from './docker-api';
import { STACK_LABEL } from './container-spec';

const run = promisify(execFile);

export interface ScratchOptions {
  docker: DockerApi;
  stackId: string;
  labels: Record<string, string>;
  /** Where the files behind the volumes live (the proxy's own volume). */
  dir: string;
  /** A static busybox: mke2fs, losetup, mount. */
  busybox: string;
}

/**
 * The volume a loop device holds, from its backing file's name (the kernel shows the path as the
 * process that attached it saw it, and " (deleted)" once the file is gone); undefined when free.
 */
async function backingName(device: string): Promise<string | undefined> {
  const backing = await readFile(`/sys/block/${device}/loop/backing_file`, 'utf8').then((f) => f.trim(), () => '');
  return backing ? basename(backing.replace(/ \(deleted\)$/, '')).replace(/\.img$/, '') : undefined;
}

/** One lock for the loop devices: `losetup -f` names the free one, the next call takes it. */
let loopLock: Promise<unknown> = Promise.resolve();
const serially = <T>(step: () => Promise<T>): Promise<T> => {
  const next = loopLock.then(step, step);
  loopLock = next.catch(() => undefined);
  return next;
};

export class ScratchVolumes {
  constructor(private readonly options: ScratchOptions) {}

  /** Checks that a volume can be made here; resolves with the reason when not (then /tmp is a tmpfs). */
  async probe(): Promise<string | undefined> {
    try {
      mkdirSync(this.options.dir, { recursive: true });
      const name = `${this.options.stackId}-probe`;
      const device = await this.format(name, 8);
      await this.detach(device, name);
      return undefined;
    } catch (error) {
      return (error as Error).message.split('\n')[0];
    }
  }

  /** Makes the volume `name` of `sizeMb`, its root writable by the sandbox user. */
  async create(name: string, sizeMb: number): Promise<string> {
    const device = await this.format(name, sizeMb);
    try {
      await this.options.docker.must('POST', '/volumes/create', {
        Name: name,
        Driver: 'local',
        DriverOpts: { type: 'ext2', device },
        Labels: { ...this.options.labels, [STACK_LABEL]: this.options.stackId, 'lambda-pipelines.loop': device },
      });
    } catch (error) {
      await this.detach(device, name);
      throw error;
    }
    return name;
  }

  /** Removes the volume (its container is gone), detaches its loop device and deletes its file. */
  async remove(name: string): Promise<void> {
    const volume = await this.options.docker.call('GET', `/volumes/${encodeURIComponent(name)}`);
    const device = volume.body?.Labels?.['lambda-pipelines.loop'] as string | undefined;
    if (volume.status === 200) await this.options.docker.must('DELETE', `/volumes/${encodeURIComponent(name)}`, undefined, [404]);
    await this.detach(device, name);
  }

  /**
   * Loop devices still holding a file of this stack whose volume is gone (a volume removed by hand,
   * a proxy that died mid-removal): detached, their files deleted.
   */
  async detachOrphans(liveVolumes: Set<string>): Promise<number> {
    const devices = await readdir('/sys/block').then((names) => names.filter((n) => n.startsWith('loop')), () => []);
    let detached = 0;
    for (const device of devices) {
      const name = await backingName(device);
      if (!name?.startsWith(`${this.options.stackId}-`) || liveVolumes.has(name)) continue;
      await this.detach(`/dev/${device}`, name);
      detached++;
    }
    return detached;
  }

  /** The stack's volumes left by an earlier run. */
  async leftovers(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`${STACK_LABEL}=${this.options.stackId}`, 'lambda-pipelines.loop'] }));
    const out = (await this.options.docker.must('GET', `/volumes?filters=${filters}`)) as { Volumes?: Array<{ Name: string }> };
    return (out.Volumes ?? []).map((v) => v.Name);
  }

  private file(name: string): string {
    return join(this.options.dir, `${name}.img`);
  }

  private async format(name: string, sizeMb: number): Promise<string> {
    const { busybox } = this.options;
    const file = this.file(name);
    // A sparse file: the disk is used as /tmp fills, not up front.
    const handle = await open(file, 'w');
    await handle.truncate(sizeMb * 1024 * 1024);
    await handle.close();
    // No blocks reserved for root: the sandbox user gets every megabyte of the size.
    await run(busybox, ['mke2fs', '-F', '-m', '0', file]);
    // Another stack's proxy may take the same free device between the two calls: then the next one.
    const device = await serially(async () => {
      for (let attempt = 1; ; attempt++) {
        const free = (await run(busybox, ['losetup', '-f'])).stdout.trim();
        try {
          await run(busybox, ['losetup', free, file]);
          return free;
        } catch (error) {
          if (attempt >= 5) throw error;
        }
      }
    });
    const mountpoint = join(this.options.dir, `${name}.mnt`);
    mkdirSync(mountpoint, { recursive: true });
    try {
      // Lambda's /tmp is writable by the sandbox user: the new file system's root is made so.
      await run(busybox, ['mount', '-t', 'ext2', device, mountpoint]);
      try {
        await run(busybox, ['chmod', '1777', mountpoint]);
        await run(busybox, ['rm', '-rf', join(mountpoint, 'lost+found')]);
      } finally {
        await run(busybox, ['umount', mountpoint]);
      }
    } catch (error) {
      await this.detach(device, name);
      throw error;
    } finally {
      rmSync(mountpoint, { recursive: true, force: true });
    }
    return device;
  }

  /** Detaches the device only while it still holds this volume's file: a freed device may already serve another environment. */
  private async detach(device: string | undefined, name: string): Promise<void> {
    if (device && (await backingName(basename(device))) === name) await run(this.options.busybox, ['losetup', '-d', device]).catch(() => undefined);
    await rm(this.file(name), { force: true });
  }

}
