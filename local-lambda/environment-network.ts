// Each environment's own network, as each Lambda environment is its own microVM: an internal Docker
// network (no route out) holding the environment and the stack's peers (LocalStack, the local
// Lambda service, known to it by their host names), nothing else. An environment reaches its
// Runtime API and LocalStack; it does not reach another environment, and not the Docker proxy.
// Subnets are /28s taken from a pool (ENVIRONMENT_SUBNETS): Docker's own pools hold about 30
// networks, far fewer than a burst has environments.
import { randomInt } from 'node:crypto';
import { DockerError, type DockerApi } from './docker-api';
import { PEER_LABEL, STACK_LABEL } from './container-spec';

/** The n-th /28 of a pool such as 10.213.0.0/16 (pure). */
export function subnetAt(pool: string, index: number): string {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(pool);
  if (!match) throw new Error(`ENVIRONMENT_SUBNETS must be an IPv4 CIDR such as 10.213.0.0/16, not "${pool}"`);
  const prefix = Number(match[5]);
  if (prefix > 24) throw new Error(`ENVIRONMENT_SUBNETS ${pool} is too small: give a /24 or larger`);
  const base = match.slice(1, 5).reduce((n, octet) => n * 256 + Number(octet), 0) >>> 0;
  const size = subnetCount(pool);
  if (index < 0 || index >= size) throw new Error(`subnet ${index} is outside ${pool} (${size} subnets)`);
  const start = ((base & (0xffffffff << (32 - prefix))) >>> 0) + index * 16;
  return `${[24, 16, 8, 0].map((shift) => (start >>> shift) & 255).join('.')}/28`;
}

export const subnetCount = (pool: string): number => 2 ** (28 - Number(pool.split('/')[1]));

export interface EnvironmentNetworkOptions {
  docker: DockerApi;
  stackId: string;
  pool: string;
  labels: Record<string, string>;
}

export class EnvironmentNetworks {
  private readonly used = new Set<number>();

  constructor(private readonly options: EnvironmentNetworkOptions) {
    subnetAt(options.pool, 0); // a bad pool is named at start
  }

  /** Creates the network `name` and connects the stack's peers to it; returns its name. */
  async create(name: string): Promise<string> {
    const { docker, stackId, pool, labels } = this.options;
    const count = subnetCount(pool);
    const first = randomInt(count);
    for (let tried = 0; tried < count; tried++) {
      const index = (first + tried) % count;
      if (this.used.has(index)) continue;
      this.used.add(index);
      const reply = await docker.call('POST', '/networks/create', {
        Name: name,
        Driver: 'bridge',
        Internal: true,
        CheckDuplicate: true,
        IPAM: { Config: [{ Subnet: subnetAt(pool, index) }] },
        Labels: { ...labels, [STACK_LABEL]: stackId, 'lambda-pipelines.subnet': String(index) },
      });
      if (reply.status === 201) {
        await this.connectPeers(name);
        return name;
      }
      // Taken by a network this proxy does not know (another stack, the user's own): try the next.
      if (!/overlap|in use|conflict/i.test(String(reply.body?.message))) {
        this.used.delete(index);
        throw new DockerError(reply.status, `could not create the environment's network: ${reply.body?.message}`);
      }
    }
    throw new Error(`every /28 of ENVIRONMENT_SUBNETS ${pool} is in use: give a larger pool`);
  }

  /** Disconnects the peers and removes the network (gone already: fine). */
  async remove(name: string): Promise<void> {
    const { docker } = this.options;
    const network = await docker.call('GET', `/networks/${encodeURIComponent(name)}`);
    if (network.status === 404) return;
    const index = Number(network.body?.Labels?.['lambda-pipelines.subnet']);
    for (const id of Object.keys(network.body?.Containers ?? {})) {
      await docker.call('POST', `/networks/${encodeURIComponent(name)}/disconnect`, { Container: id, Force: true });
    }
    await docker.must('DELETE', `/networks/${encodeURIComponent(name)}`, undefined, [404]);
    if (Number.isInteger(index)) this.used.delete(index);
  }

  /** The stack's networks left by an earlier run (their environments are gone). */
  async leftovers(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`${STACK_LABEL}=${this.options.stackId}`, 'lambda-pipelines.subnet'] }));
    const list = (await this.options.docker.must('GET', `/networks?filters=${filters}`)) as Array<{ Name: string }>;
    return list.map((n) => n.Name);
  }

  private async connectPeers(network: string): Promise<void> {
    const { docker, stackId } = this.options;
    const filters = encodeURIComponent(JSON.stringify({ label: [`${STACK_LABEL}=${stackId}`, PEER_LABEL] }));
    const peers = (await docker.must('GET', `/containers/json?filters=${filters}`)) as Array<{ Id: string; Labels: Record<string, string> }>;
    await Promise.all(
      peers.map((peer) =>
        docker.must('POST', `/networks/${encodeURIComponent(network)}/connect`, { Container: peer.Id, EndpointConfig: { Aliases: peer.Labels[PEER_LABEL]!.split(',') } }),
      ),
    );
  }
}
