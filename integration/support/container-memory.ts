// The peak memory of a container as its cgroup counted it (what a memory limit is enforced on),
// read from the host: cgroup v1 (memory.max_usage_in_bytes) or v2 (memory.peak).
import { existsSync, readFileSync } from 'node:fs';

export function peakMemoryBytes(containerId: string): number | undefined {
  const candidates = [
    `/sys/fs/cgroup/memory/docker/${containerId}/memory.max_usage_in_bytes`,
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/memory.peak`,
    `/sys/fs/cgroup/docker/${containerId}/memory.peak`,
  ];
  const file = candidates.find((f) => existsSync(f));
  return file ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}
