// Starts LocalStack for a suite, as docker-compose.yml runs it: the image from LOCALSTACK_IMAGE
// (default the last token-free release), LOCALSTACK_AUTH_TOKEN passed through when set.
import { LocalstackContainer, type StartedLocalStackContainer } from '@testcontainers/localstack';
import type { StartedNetwork } from 'testcontainers';
import { localClients, type LocalClients } from '../../toolkit/clients';
import { TEST_LABEL } from '../../toolkit/labels';

export const LOCALSTACK_IMAGE = process.env.LOCALSTACK_IMAGE ?? 'localstack/localstack:4.14.0';
/** The services docker-compose.yml enables: what the stack's template needs. */
export const LOCALSTACK_SERVICES = 's3,sqs,sns,dynamodb,dynamodbstreams,cloudformation,iam,sts,logs,cloudwatch';

export interface LocalStack {
  container: StartedLocalStackContainer;
  /** http://127.0.0.1:<mapped port>, for the test process. */
  endpoint: string;
  clients: LocalClients;
}

/** `labels`: more labels (a stack's peer labels, so its function environments reach it). */
export async function startLocalStack(network?: StartedNetwork, labels: Record<string, string> = {}, environment: Record<string, string> = {}): Promise<LocalStack> {
  let container = new LocalstackContainer(LOCALSTACK_IMAGE)
    .withLabels({ [TEST_LABEL]: 'true', ...labels })
    .withEnvironment({
      PROVIDER_OVERRIDE_DYNAMODBSTREAMS: 'v2',
      SERVICES: LOCALSTACK_SERVICES,
      SQS_ENDPOINT_STRATEGY: 'path',
      ...environment,
      ...(process.env.LOCALSTACK_AUTH_TOKEN && { LOCALSTACK_AUTH_TOKEN: process.env.LOCALSTACK_AUTH_TOKEN }),
    })
    .withStartupTimeout(180_000);
  if (network) container = container.withNetwork(network).withNetworkAliases('localstack');
  const started = await container.start();
  const endpoint = `http://127.0.0.1:${started.getPort()}`;
  return { container: started, endpoint, clients: localClients(endpoint) };
}
