// The SDK's CloudWatch Logs and CloudWatch clients as the log shipper and the metric publisher
// need them (cloudwatch-logs.ts, cloudwatch-metrics.ts stay free of the SDK).
import { CloudWatchClient, PutMetricDataCommand, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GroupMissing, StreamMissing, type LogsApi } from './cloudwatch-logs';
import type { MetricsApi } from './cloudwatch-metrics';

const named = (error: unknown, name: string) => (error as { name?: string } | undefined)?.name === name;

export function cloudWatchLogsApi(client = new CloudWatchLogsClient({})): LogsApi {
  return {
    async createLogStream(group, stream) {
      try {
        await client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      } catch (error) {
        if (named(error, 'ResourceAlreadyExistsException')) return;
        if (named(error, 'ResourceNotFoundException')) throw new GroupMissing(`log group ${group} does not exist`);
        throw error;
      }
    },
    async createLogGroup(group) {
      try {
        await client.send(new CreateLogGroupCommand({ logGroupName: group }));
      } catch (error) {
        if (!named(error, 'ResourceAlreadyExistsException')) throw error;
      }
    },
    async putLogEvents(group, stream, events) {
      try {
        await client.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: events }));
      } catch (error) {
        if (named(error, 'ResourceNotFoundException')) throw new StreamMissing(`log stream ${group} ${stream} does not exist`);
        throw error;
      }
    },
  };
}

export function cloudWatchMetricsApi(client = new CloudWatchClient({})): MetricsApi {
  return {
    async putMetricData(namespace, data) {
      await client.send(
        new PutMetricDataCommand({
          Namespace: namespace,
          MetricData: data.map((d) => ({
            MetricName: d.name,
            Dimensions: d.dimensions.map(([Name, Value]) => ({ Name, Value })),
            Timestamp: new Date(d.timestamp),
            StatisticValues: { SampleCount: d.stats.sampleCount, Sum: d.stats.sum, Minimum: d.stats.min, Maximum: d.stats.max },
            ...(d.unit && { Unit: d.unit as StandardUnit }),
            ...(d.storageResolution && { StorageResolution: d.storageResolution }),
          })),
        }),
      );
    },
  };
}
