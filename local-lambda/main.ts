// The local Lambda service's entry point: its settings from the environment, then the service
// (service.ts) until SIGTERM. docker-compose.yml runs it in a container; from a checkout:
//   STACK_TEMPLATE=cdk.out/LambdaPipelines.template.json DOCKER_PROXY_URL=http://127.0.0.1:2375 \
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx local-lambda/main.ts
import pino from 'pino';
import { loadServiceConfig } from './config';
import { createLocalLambda } from './service';

const logger = pino({ messageKey: 'message', base: { service: 'local-lambda' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (level) => ({ level }) } });
// A rejection nobody awaited is a bug to fix, never a reason to stop every function locally.
process.on('unhandledRejection', (reason) => logger.error({ err: (reason as Error)?.message ?? String(reason) }, 'unhandled rejection (please report it)'));

let config;
try {
  config = loadServiceConfig();
} catch (error) {
  logger.fatal({ err: (error as Error).message }, 'invalid configuration');
  process.exit(1);
}
const service = createLocalLambda(config, logger);
// A stack that cannot be deployed leaves the service up, saying why on /health (make up prints it).
service.start().catch(() => undefined);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void service.stop(signal).finally(() => process.exit(0));
  });
}
