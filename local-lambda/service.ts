// The local Lambda service: Lambda, locally, for container images. From the synthesized template
// (the file `cdk deploy` sends to AWS) it
//   1. checks that every resource type and property is implemented locally (template/support.ts),
//   2. has LocalStack's CloudFormation create its half (template/split.ts, localstack-deployer.ts),
//   3. runs the other half itself (template/plan.ts): each function's environments, started on
//      demand within its concurrency (function-runtime.ts; containers made by the Docker proxy from
//      the function's definition), its Runtime API, the Lambda API, event source mappings (SQS,
//      DynamoDB Streams), Event invocations, Function URLs with their signing proxies, and schedules.
// `createLocalLambda(config, logger)` returns { start, stop, health }; main.ts runs it.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { basename } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { sleep } from '#shared/backoff';
import { AccountConcurrency, ConcurrencyError, FunctionConcurrency } from './concurrency';
import type { ServiceConfig } from './config';
import type { EnvironmentRequest } from './container-spec';
import { DockerProxyClient, EnvironmentBudget, ProxyLauncher, type EnvironmentExit } from './environments';
import { AsyncPoller, enqueueEvent, ensureAsyncQueue, MAX_ASYNC_PAYLOAD_BYTES, type AsyncQueue } from './event-sources/async-poller';
import { DynamoCheckpointStore } from './event-sources/checkpoints';
import { isDeadLetter, type SendRecord } from './event-sources/failure-records';
import { EsmWorker, type Poller } from './event-sources/poller';
import { SchedulePoller } from './event-sources/schedule-poller';
import { queueNameOf, SqsPoller } from './event-sources/sqs-poller';
import { StreamPoller } from './event-sources/stream-poller';
import { cloudWatchLogsApi, cloudWatchMetricsApi } from './cloudwatch-api';
import { FunctionRuntime, type InvocationRecord } from './function-runtime';
import { startHttpServer, type ServerTimeouts } from './http-server';
import { invokeApiHandler } from './invoke-api';
import { checkingEndpointHandler } from './iam/checking-endpoint';
import { FunctionCredentials } from './iam/function-credentials';
import { mappingPermissionProblems, scheduleInvokeDenial } from './iam/service-permissions';
import { stackPolicies, type StackPolicies } from './iam/template-policies';
import { CHECKING_ENDPOINT_PORT, functionUrlPort, runtimeApiPort, signingProxyPort } from './ports';
import { BodyBudget } from './request-guard';
import { runtimeApiHandler } from './runtime-api';
import { LOCAL_SECRET_ACCESS_KEY } from './sigv4';
import { signingProxyHandler } from './signing-proxy';
import { serviceIdentities, type StackInfo } from './template/identities';
import { deployToLocalStack, DeployError, type DeployResult } from './template/localstack-deployer';
import { buildPlan, resolveContext, type FunctionPlan, type LocalPlan } from './template/plan';
import { isServiceResource, localStackTemplate, referencesIntoLocalStack } from './template/split';
import { ownerOf, unsupportedParts } from './template/support';
import { readTemplate } from './template/template';
import { functionEnvironment } from './function-environment';
import { SubscriptionDelivery } from './logs-subscription';
import { FunctionTelemetry } from './telemetry';
import { functionUrlHandler } from './url-server';

export interface LocalLambda {
  /** Deploys the template and starts everything; resolves when the functions can be invoked. */
  start(): Promise<void>;
  stop(reason: string): Promise<void>;
  health(): Record<string, unknown>;
}

type State = 'deploying' | 'ok' | 'failed' | 'stopping';

/** The stack's name: STACK_NAME, else the template file's (cdk.out/<name>.template.json). */
export const stackNameOf = (config: Pick<ServiceConfig, 'STACK_NAME' | 'STACK_TEMPLATE'>): string => config.STACK_NAME ?? basename(config.STACK_TEMPLATE).replace(/\.template\.json$/, '').replace(/\.json$/, '');

export function createLocalLambda(config: ServiceConfig, logger: Logger): LocalLambda {
  const stack: StackInfo = { name: stackNameOf(config), region: config.AWS_REGION, accountId: config.AWS_ACCOUNT_ID };
  // Queue URLs name LocalStack's own host names; the endpoint we were given is the one that resolves.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const dynamodb = new DynamoDBClient({});
  const streams = new DynamoDBStreamsClient({});
  const cloudformation = new CloudFormationClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  const proxy = new DockerProxyClient(new URL(config.DOCKER_PROXY_URL), logger);
  const startedAt = new Date();
  const servers: Server[] = [];
  const runtimes = new Map<string, FunctionRuntime>();
  // The account's concurrency: AWS keeps a tenth of it (100 of 1,000) for the functions without a reservation.
  const account = new AccountConcurrency(config.ACCOUNT_CONCURRENCY, Math.ceil(config.ACCOUNT_CONCURRENCY / 10));
  const budget = new EnvironmentBudget(config.ACCOUNT_CONCURRENCY, () => [...runtimes.values()].some((r) => r.evictIdle()));
  let tmpKind: { kind: string; why?: string } | undefined;
  // Each function's log: Lambda's lines and its environments' output, one structured line each.
  const functionLogger = logger.child({ source: 'function' });
  // ...and in CloudWatch Logs, with the function's metrics in CloudWatch (telemetry.ts).
  const telemetry = config.CLOUDWATCH === 'on' ? new FunctionTelemetry(cloudWatchLogsApi(), cloudWatchMetricsApi(), logger) : undefined;
  const functionLog = (fn: string, logStream: string | undefined, line: string) => {
    functionLogger.info({ function: fn, logStream }, line);
    telemetry?.line(fn, logStream, line);
  };
  let workers: EsmWorker[] = [];
  let plan: LocalPlan | undefined;
  let deployed: DeployResult | undefined;
  // Each function runs as its role (local-lambda/iam/): its own credentials, checked on the way to LocalStack.
  const credentials = new FunctionCredentials();
  let policies: StackPolicies | undefined;
  const iamCounts = { checked: 0, denied: 0 };
  // What a web page or a neighbour may not do to the endpoints (request-guard.ts): the service's own
  // name on its network is a Host it answers to, besides loopback.
  const guard = { serviceNames: [config.RUNTIME_API_HOST.toLowerCase(), ...config.ALLOWED_HOST_NAMES] };
  const bodyBudget = new BodyBudget(config.REQUEST_BODIES_MAX_MB * 1024 * 1024);
  const publicTimeouts: ServerTimeouts = { headersMs: config.REQUEST_HEADERS_TIMEOUT_SECONDS * 1000, requestMs: config.REQUEST_TIMEOUT_SECONDS * 1000, idleMs: 0 };
  // Uploads stream through the checking endpoint (a 1 GiB CSV): no limit on the whole request, only on silence.
  const streamingTimeouts: ServerTimeouts = { headersMs: config.REQUEST_HEADERS_TIMEOUT_SECONDS * 1000, requestMs: 0, idleMs: 300_000 };
  // The time each of the last checks took (request in -> decision), for /health and make bench.
  const checkTimes: number[] = [];
  const checkMs = () => {
    const sorted = [...checkTimes].sort((a, b) => a - b);
    const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2));
    return { samples: sorted.length, p50: at(0.5), p95: at(0.95) };
  };
  const iamChecked = config.IAM_MODE !== 'off';
  let state: State = 'deploying';
  let failure: string | undefined;

  const queueUrls = new Map<string, Promise<string>>();
  const queueUrl = (arn: string): Promise<string> => {
    if (!queueUrls.has(arn)) {
      const url = sqs.send(new GetQueueUrlCommand({ QueueName: queueNameOf(arn) })).then((out) => out.QueueUrl!);
      url.catch(() => queueUrls.delete(arn));
      queueUrls.set(arn, url);
    }
    return queueUrls.get(arn)!;
  };
  /** The one sender of destination records (on-failure, on-success, dead letters); throws when SQS does. */
  const sendRecord: SendRecord = async (queueArn, record) => {
    const [body, attributes] = isDeadLetter(record) ? [record.body, record.attributes] : [JSON.stringify(record), {}];
    const MessageAttributes = Object.fromEntries(Object.entries(attributes).map(([name, value]): [string, MessageAttributeValue] => [name, { DataType: 'String', StringValue: value }]));
    await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(queueArn), MessageBody: body, ...(Object.keys(MessageAttributes).length > 0 && { MessageAttributes }) }));
  };
  const asyncQueues = new Map<string, Promise<AsyncQueue>>();
  const asyncQueue = (fn: FunctionPlan): Promise<AsyncQueue> => {
    if (!asyncQueues.has(fn.name)) {
      const queue = ensureAsyncQueue(sqs, fn.name, fn.timeoutSeconds + 60);
      queue.catch(() => asyncQueues.delete(fn.name));
      asyncQueues.set(fn.name, queue);
    }
    return asyncQueues.get(fn.name)!;
  };

  /** An Event invocation of `fn`, accepted now: onto the service's own queue for it. */
  const enqueueInvocation = async (fn: FunctionPlan, payload: Buffer, requestId: string = randomUUID()): Promise<void> =>
    enqueueEvent(sqs, await asyncQueue(fn), { requestId, payload: payload.toString('base64'), attempts: 0, acceptedAt: Date.now() });

  /** What a function's containers get: its own variables, and what Lambda and the local stack set. */
  const environmentOf = (fn: FunctionPlan, index: number): Record<string, string> =>
    functionEnvironment(fn, {
      region: stack.region,
      endpointUrl: iamChecked ? `http://${config.RUNTIME_API_HOST}:${CHECKING_ENDPOINT_PORT}` : config.FUNCTION_ENDPOINT_URL,
      ...(iamChecked && { credentials: credentials.credentialsFor(fn.name) }),
      publicEndpointUrl: config.PUBLIC_ENDPOINT_URL,
      runtimeApi: `${config.RUNTIME_API_HOST}:${runtimeApiPort(index)}`,
    });
  const environmentRequest = (fn: FunctionPlan, index: number, logStream: string): EnvironmentRequest => ({
    function: fn.name,
    image: `${fn.repository}:${config.IMAGE_TAG}`,
    memoryMb: fn.memoryMb,
    ephemeralStorageMb: fn.ephemeralStorageMb,
    architecture: fn.architecture,
    environment: { ...environmentOf(fn, index), AWS_LAMBDA_LOG_STREAM_NAME: logStream },
    ...(fn.command && { command: fn.command }),
    ...(fn.entryPoint && { entryPoint: fn.entryPoint }),
    ...(fn.workingDirectory && { workingDirectory: fn.workingDirectory }),
  });
  /** An environment died: what it ran fails now, as Lambda reports a runtime that exited; the next event starts another. */
  function onExit(exit: EnvironmentExit): void {
    budget.gone(exit.id);
    if (state === 'stopping') return;
    const how = exit.oomKilled || exit.exitCode === 137 ? 'signal: killed' : `exit status ${exit.exitCode}`;
    const error = { errorType: exit.oomKilled ? 'Runtime.OutOfMemory' : 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${how}` };
    for (const runtime of runtimes.values()) if (runtime.exited(exit.id, error)) break;
  }

  async function deploy(): Promise<LocalPlan> {
    const template = readTemplate(config.STACK_TEMPLATE);
    const problems = unsupportedParts(template);
    if (problems.length > 0) throw new DeployError(`the template holds what the local run does not implement (nothing is ignored silently):\n  - ${problems.join('\n  - ')}`);
    const identities = serviceIdentities(template, stack, (i) => `http://127.0.0.1:${functionUrlPort(i)}/`);
    const references = referencesIntoLocalStack(template);
    deployed = await deployToLocalStack({
      cloudformation,
      s3,
      stackName: stack.name,
      template: localStackTemplate(template, identities),
      references,
      templateUrlBase: config.FUNCTION_ENDPOINT_URL,
      log: (line) => logger.info(line),
    });
    logger.info({ stack: stack.name, action: deployed.action, seconds: deployed.seconds, resources: deployed.resources.length }, `LocalStack's half of the stack: ${deployed.action}`);
    const built = buildPlan({ template, stack, identities, localStackValues: deployed.values });
    if (iamChecked) {
      policies = stackPolicies(template, resolveContext({ template, stack, identities, localStackValues: deployed.values }), stack);
      for (const role of policies.roles.values()) {
        if (role.unknownManagedPolicies.length > 0) logger.warn({ role: role.roleName, managedPolicies: role.unknownManagedPolicies }, 'managed policies whose statements the local check does not know: what only they allow is denied locally');
      }
      // What Lambda checks when a mapping or a destination is created: the function's role may use it.
      const problems = mappingPermissionProblems(built, policies);
      if (problems.length > 0) {
        if (config.IAM_MODE === 'enforce') throw new DeployError(`the stack's roles lack what Lambda needs (as AWS refuses at deploy):\n  - ${problems.join('\n  - ')}`);
        for (const problem of problems) logger.warn({ iam: 'would deny' }, problem);
      }
    }
    const lambdaSide = Object.values(template.Resources).filter(isServiceResource).length;
    logger.info({ functions: built.functions.length, mappings: built.mappings.length, urls: built.urls.length, schedules: built.schedules.length, resources: lambdaSide }, 'the local Lambda service runs its half');
    return built;
  }

  function wire(p: LocalPlan): void {
    for (const [index, fn] of p.functions.entries()) {
      if (index >= 100) throw new DeployError('more than 100 functions: the Runtime API ports 9100-9199 are all taken');
      let concurrency: FunctionConcurrency;
      try {
        concurrency = new FunctionConcurrency(fn.name, account, fn.reservedConcurrency);
      } catch (error) {
        if (error instanceof ConcurrencyError) throw new DeployError(`${fn.logicalId}: ${error.message} (ACCOUNT_CONCURRENCY=${config.ACCOUNT_CONCURRENCY})`);
        throw error;
      }
      telemetry?.register(fn.name, fn.logGroup);
      const launcher = new ProxyLauncher({
        proxy,
        budget,
        environment: (logStream) => environmentRequest(fn, index, logStream),
        output: (line, logStream) => functionLog(fn.name, logStream, line),
        logger,
      });
      runtimes.set(
        fn.name,
        new FunctionRuntime({
          name: fn.name,
          arn: fn.arn,
          timeoutSeconds: fn.timeoutSeconds,
          memoryMb: fn.memoryMb,
          concurrency,
          launcher,
          log: (line, logStream) => functionLog(fn.name, logStream, line),
          events: logger,
          ...(telemetry && { onInvocation: (record: InvocationRecord) => telemetry.invocation(fn.name, record) }),
          initTimeoutMs: config.INIT_TIMEOUT_SECONDS * 1000,
          idleTimeoutMs: config.IDLE_ENVIRONMENT_SECONDS * 1000,
        }),
      );
    }
    const byName = new Map(p.functions.map((f) => [f.name, f]));
    const checkpoints = new DynamoCheckpointStore(dynamodb);
    const pollers: Poller[] = [];
    for (const mapping of p.mappings) {
      const runtime = runtimes.get(mapping.function)!;
      if (mapping.kind === 'sqs') pollers.push(new SqsPoller({ sqs, mapping, runtime, region: stack.region, logger }));
      else pollers.push(new StreamPoller({ streams, mapping, runtime, functionArn: byName.get(mapping.function)!.arn, checkpoints, sendRecord, logger, ...(telemetry && { metric: (name, value) => telemetry.sourceMetric(mapping.function, name, value) }) }));
    }
    // Subscription filters: matching log events to their function, as Event invocations.
    if (p.subscriptions.length > 0) {
      if (!telemetry) logger.warn({ subscriptions: p.subscriptions.map((s) => s.logicalId) }, 'CLOUDWATCH=off: the subscription filters deliver nothing');
      telemetry?.subscribe(
        new SubscriptionDelivery(p.subscriptions, {
          owner: stack.accountId,
          maxPayloadBytes: MAX_ASYNC_PAYLOAD_BYTES,
          invoke: (fn, payload) => enqueueInvocation(byName.get(fn)!, payload),
          onError: (error, s) => logger.warn({ subscription: s.logicalId, function: s.function, err: (error as Error)?.message }, 'log events of a subscription filter could not be delivered'),
        }),
      );
    }
    for (const spec of p.asyncInvokes) {
      const fn = byName.get(spec.function)!;
      pollers.push(
        new AsyncPoller({
          sqs,
          queue: () => asyncQueue(fn),
          config: spec,
          runtime: runtimes.get(spec.function)!,
          functionArn: fn.arn,
          sendRecord,
          retryDelaySeconds: (attempt) => config.ASYNC_RETRY_DELAYS_SECONDS[Math.min(attempt, config.ASYNC_RETRY_DELAYS_SECONDS.length) - 1] ?? 60,
          logger,
          ...(telemetry && { metric: (name, value) => telemetry.sourceMetric(spec.function, name, value) }),
        }),
      );
    }
    for (const schedule of p.schedules) {
      const fn = byName.get(schedule.function)!;
      pollers.push(
        new SchedulePoller({
          schedule,
          targetArn: fn.arn,
          deliver: async (payload) => {
            const denial = iamChecked && policies ? scheduleInvokeDenial(policies, schedule, fn.arn, stack.accountId) : undefined;
            if (denial && config.IAM_MODE === 'enforce') throw new Error(denial);
            if (denial) logger.warn({ iam: 'would deny', schedule: schedule.name }, denial);
            await enqueueInvocation(fn, payload);
          },
          sendRecord,
          checkpoints,
          logger,
        }),
      );
    }
    workers = pollers.map((poller) => new EsmWorker(poller, { logger }));
  }

  const functionsHealth = () =>
    Object.fromEntries(
      [...runtimes].map(([name, r]) => [
        name,
        {
          environments: r.environmentCounts(),
          coldStarts: r.coldStarts,
          throttles: r.throttles,
          waiting: r.queued,
          ...(r.reservedConcurrency !== undefined && { reservedConcurrency: r.reservedConcurrency }),
          ...(r.initFailure && { initError: r.initFailure }),
          ...(r.startError && { startError: r.startError }),
        },
      ]),
    );

  const health = (): Record<string, unknown> => ({
    status: state,
    ...(failure && { error: failure }),
    stack: stack.name,
    ...(deployed && { localstack: { action: deployed.action, seconds: deployed.seconds, resources: deployed.resources.length } }),
    account: { concurrency: account.limit, unreservedAvailable: account.unreservedAvailable, environments: budget.size, awsDefaultConcurrency: 1000 },
    limits: { idleEnvironmentSeconds: config.IDLE_ENVIRONMENT_SECONDS, initTimeoutSeconds: config.INIT_TIMEOUT_SECONDS, tmp: tmpKind ?? { kind: 'unknown' } },
    iam: { mode: config.IAM_MODE, ...iamCounts, checkMs: checkMs() },
    cloudwatch: telemetry ? telemetry.health() : 'off',
    // The service's own memory (peak resident set since start) and the request bodies it holds.
    process: { rssBytes: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024, requestBodies: bodyBudget.usage },
    functions: functionsHealth(),
    eventSourceMappings: workers.map((w) => w.poller.name),
    functionUrls: Object.fromEntries((plan?.urls ?? []).map((u, i) => [u.function, { url: u.url, authType: u.authType, signingProxy: `http://127.0.0.1:${signingProxyPort(i)}/` }])),
    schedules: (plan?.schedules ?? []).map((s) => `${s.name}: ${s.expression} ${s.timezone} -> ${s.function}`),
  });

  const stackDescription = () => ({
    name: stack.name,
    region: stack.region,
    accountId: stack.accountId,
    status: state,
    outputs: deployed?.outputs ?? {},
    functions: (plan?.functions ?? []).map((f) => ({
      logicalId: f.logicalId,
      name: f.name,
      arn: f.arn,
      image: `${f.repository}:${config.IMAGE_TAG}`,
      memoryMb: f.memoryMb,
      timeoutSeconds: f.timeoutSeconds,
      architecture: f.architecture,
      ephemeralStorageMb: f.ephemeralStorageMb,
      logGroup: f.logGroup,
      ...(f.command && { command: f.command }),
    })),
    mappings: (plan?.mappings ?? []).map((m) => ({ uuid: m.uuid, logicalId: m.logicalId, function: m.function, source: m.kind === 'sqs' ? m.queueArn : m.streamArn })),
    urls: plan?.urls ?? [],
    schedules: (plan?.schedules ?? []).map((s) => ({ name: s.name, arn: s.arn, function: s.function, expression: s.expression, timezone: s.timezone, input: s.input })),
    resources: (deployed?.resources ?? []).map((r) => ({ ...r, owner: 'localstack' })).concat(
      (plan ? Object.entries(readTemplate(config.STACK_TEMPLATE).Resources).filter(([, r]) => ownerOf(r.Type) === 'local-lambda') : []).map(([logicalId, r]) => ({ logicalId, type: r.Type, physicalId: '', owner: 'local-lambda' })),
    ),
  });

  async function startServers(p: LocalPlan): Promise<void> {
    const host = config.LAMBDA_API_HOST;
    if (iamChecked) {
      const checking = checkingEndpointHandler({
        upstream: new URL(config.FUNCTION_ENDPOINT_URL),
        region: stack.region,
        account: stack.accountId,
        mode: config.IAM_MODE,
        credentials,
        roleOf: (name) => {
          const roleArn = plan?.functions.find((f) => f.name === name)?.roleArn;
          return roleArn ? policies?.roles.get(roleArn) : undefined;
        },
        resourcePolicy: (arn) => policies?.resources.get(arn),
        logger: logger.child({ source: 'iam' }),
        onChecked: ({ allowed, checkMs: ms }) => {
          iamCounts.checked++;
          if (!allowed) iamCounts.denied++;
          checkTimes.push(ms);
          if (checkTimes.length > 2_000) checkTimes.shift();
        },
      });
      servers.push(await startHttpServer(checking, CHECKING_ENDPOINT_PORT, host, logger, streamingTimeouts));
    }
    for (const [index, fn] of p.functions.entries()) {
      const runtime = runtimes.get(fn.name)!;
      const isForeign = (address: string) => [...runtimes.values()].some((other) => other !== runtime && other.isEnvironment(address));
      servers.push(await startHttpServer(runtimeApiHandler(runtime, { isForeign }), runtimeApiPort(index), host, logger));
    }
    for (const [index, url] of p.urls.entries()) {
      const port = functionUrlPort(index);
      const handler = functionUrlHandler({ config: url, runtime: runtimes.get(url.function)!, region: stack.region, accountId: stack.accountId, logger, accepting: () => state === 'ok', guard, bodyBudget });
      servers.push(await startHttpServer(handler, port, host, logger, publicTimeouts));
      // The browser's door: signs with the local credentials (any key, LocalStack's secret).
      const signing = signingProxyHandler({ target: new URL(`http://127.0.0.1:${port}/`), region: stack.region, credentials: { accessKeyId: 'local-dashboard', secretAccessKey: LOCAL_SECRET_ACCESS_KEY }, bodyBudget });
      servers.push(await startHttpServer(signing, signingProxyPort(index), host, logger, publicTimeouts));
    }
  }

  /** The Lambda API, up from the first second: /health says whether the stack is deployed. */
  async function startLambdaApi(): Promise<void> {
    servers.push(
      await startHttpServer(
        invokeApiHandler({
          runtimes,
          get functions() {
            return plan?.functions ?? [];
          },
          get mappings() {
            return plan?.mappings ?? [];
          },
          get urls() {
            return plan?.urls ?? [];
          },
          functionArn: (name) => `arn:aws:lambda:${stack.region}:${stack.accountId}:function:${name}`,
          environment: (fn) => environmentOf(fn, plan!.functions.indexOf(fn)),
          imageUri: (fn) => `${fn.repository}:${config.IMAGE_TAG}`,
          maxEventPayloadBytes: MAX_ASYNC_PAYLOAD_BYTES,
          accepting: () => state === 'ok',
          invokeEvent: async (runtime, payload) => {
            const requestId = randomUUID();
            const fn = plan!.functions.find((f) => f.name === runtime.name)!;
            await enqueueInvocation(fn, payload, requestId);
            return requestId;
          },
          updateConfiguration: (fn, changes) => {
            // The plan is what the next environments are made from; the runtime replaces the current ones.
            if (changes.memoryMb !== undefined) fn.memoryMb = changes.memoryMb;
            if (changes.timeoutSeconds !== undefined) fn.timeoutSeconds = changes.timeoutSeconds;
            runtimes.get(fn.name)!.reconfigure(changes);
            logger.info({ function: fn.name, ...changes }, 'function configuration changed (UpdateFunctionConfiguration); its environments are replaced');
          },
          onConcurrency: (name, reserved) => logger.info({ function: name, reservedConcurrency: reserved ?? 'none' }, 'reserved concurrency changed'),
          ...(config.LOCAL_DEV_RELOAD && {
            // What runs finishes on the old code; the next event starts an environment on the new
            // (a cold start, as after an update on AWS).
            devReload: async (name: string) => {
              const restarted = runtimes.get(name)!.retireAll();
              logger.info({ function: name, restarted }, 'reloaded on the new bundle');
              return { function: name, restarted };
            },
          }),
          onInvoked: (name, result) =>
            logger.info({ function: name, source: 'request-response', requestId: result.requestId, durationMs: result.durationMs, outcome: result.ok ? 'success' : result.kind }, 'invocation'),
          health,
          stack: stackDescription,
          startedAt,
          guard,
          bodyBudget,
        }),
        config.LAMBDA_API_PORT,
        config.LAMBDA_API_HOST,
        logger,
        publicTimeouts,
      ),
    );
  }

  /** The proxy may start after the service (compose starts both): its health, polled for a minute. */
  async function waitForProxy(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        tmpKind = (await proxy.health()).tmp;
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new DeployError(`the Docker proxy at ${config.DOCKER_PROXY_URL} does not answer: ${(error as Error).message}`);
        await sleep(500);
      }
    }
  }

  return {
    health,
    async start() {
      await startLambdaApi();
      try {
        await waitForProxy();
        // A stack left by an earlier run of the service (a crash, a restart): its containers go first.
        const leftovers = await proxy.list();
        await Promise.all(leftovers.map((c) => proxy.remove(c.Id).catch(() => undefined)));
        if (leftovers.length > 0) logger.info({ removed: leftovers.length }, 'removed the environments of an earlier run');
        plan = await deploy();
        wire(plan);
        await startServers(plan);
        proxy.watch(onExit);
        if (tmpKind?.kind !== 'volume') logger.warn({ why: tmpKind?.why }, "/tmp is a tmpfs here (counted against the function's memory): loop devices are not available to the Docker proxy");
        for (const worker of workers) worker.start();
        telemetry?.start(runtimes);
        state = 'ok';
        logger.info(
          {
            stack: stack.name,
            lambdaApi: config.LAMBDA_API_PORT,
            functions: Object.fromEntries(plan.functions.map((f, i) => [f.name, { image: `${f.repository}:${config.IMAGE_TAG}`, runtimeApi: runtimeApiPort(i), ...(f.reservedConcurrency !== undefined && { reservedConcurrency: f.reservedConcurrency }) }])),
            accountConcurrency: config.ACCOUNT_CONCURRENCY,
            functionUrls: Object.fromEntries(plan.urls.map((u) => [u.function, u.url])),
            eventSourceMappings: workers.map((w) => w.poller.name),
          },
          'local Lambda service ready',
        );
      } catch (error) {
        state = 'failed';
        failure = (error as Error).message;
        logger.error({ err: failure }, 'the stack could not be deployed locally');
        throw error;
      }
    },
    async stop(reason) {
      if (state === 'stopping') return;
      state = 'stopping';
      logger.info({ reason }, 'stopping: no new work; finishing the invocations in flight');
      // Pollers stop receiving; what was not received stays in its queue or stream for the next start.
      await Promise.race([Promise.all(workers.map((w) => w.stop())), sleep(config.SHUTDOWN_GRACE_MS)]);
      proxy.stop();
      for (const runtime of runtimes.values()) runtime.stop();
      // The removals run through the proxy: wait (briefly) until the environments are gone.
      const deadline = Date.now() + 10_000;
      while (budget.size > 0 && Date.now() < deadline) await sleep(100);
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
      // The last lines and metrics (REPORT lines of the invocations just finished among them).
      await Promise.race([telemetry?.stop(), sleep(5_000)]);
      logger.info('stopped');
    },
  };
}
