// The SNS port of the cores, and its adapter over the SDK.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

export interface Notification {
  subject: string;
  message: string;
  /** String attributes that subscription filter policies can match. */
  attributes: Record<string, string>;
}

export interface Publisher {
  /** Publishes one message and returns its message id; errors propagate. */
  publish(notification: Notification): Promise<string>;
}

/** SNS refuses subjects over 100 characters or with control characters. */
export const snsSubject = (text: string): string => {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean.length <= 100 ? clean : `${clean.slice(0, 99)}…`;
};

export class SnsPublisher implements Publisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish({ subject, message, attributes }: Notification): Promise<string> {
    const out = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(subject),
        Message: message,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
        ),
      }),
    );
    return out.MessageId ?? '';
  }
}

/** Records what was published, for unit tests. */
export class MemoryPublisher implements Publisher {
  readonly published: Notification[] = [];
  async publish(notification: Notification): Promise<string> {
    this.published.push(notification);
    return `msg-${this.published.length}`;
  }
}
