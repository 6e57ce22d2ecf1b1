/**
 * Walks a synthesized template from each alarm to the topic it notifies and to the topic policy that lets
 * CloudWatch publish there: a topic policy replaces SNS's default one, so without that grant every notification
 * is refused silently.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';

/** A template node: CloudFormation JSON, loosely typed as the assertions library returns it. */
export type Json = ReturnType<Template['toJSON']>;
export type Resources = Record<string, { Type: string; Properties?: Json }>;
type Statement = Json;

export const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Whether a topic policy statement lets CloudWatch alarms of this account and region publish to the topic. */
function letsCloudWatchAlarmsPublish(statement: Statement, topicId: string): boolean {
  const actions = list(statement.Action).map((a) => String(a).toLowerCase());
  return (
    statement.Effect === 'Allow' &&
    list(statement.Principal?.Service).includes('cloudwatch.amazonaws.com') &&
    (actions.includes('sns:publish') || actions.includes('sns:*')) &&
    list(statement.Resource).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: topicId })) &&
    JSON.stringify(statement.Condition?.StringEquals?.['aws:SourceAccount']) ===
      JSON.stringify({ Ref: 'AWS::AccountId' }) &&
    /:cloudwatch:.*:alarm:\*"\]\]\}$/.test(JSON.stringify(statement.Condition?.ArnLike?.['aws:SourceArn']))
  );
}

/**
 * Walks every alarm's actions to their topic and that topic's policies, failing unless each topic allows
 * CloudWatch to publish. Returns how many alarms it walked.
 */
export function walkAlarmsToPublishGrants(resources: Resources): number {
  let walked = 0;
  for (const [alarmId, alarm] of Object.entries(resources)) {
    if (alarm.Type !== 'AWS::CloudWatch::Alarm') continue;
    const targets = [...list(alarm.Properties?.AlarmActions), ...list(alarm.Properties?.OKActions)];
    expect(list(alarm.Properties?.AlarmActions).length, alarmId).toBeGreaterThan(0);
    for (const target of targets) {
      const topicId = (target as { Ref?: string }).Ref;
      expect(topicId && resources[topicId]?.Type, `${alarmId} -> ${JSON.stringify(target)}`).toBe(
        'AWS::SNS::Topic',
      );
      const statements = Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::SNS::TopicPolicy' &&
            list(r.Properties?.Topics).some((t) => (t as { Ref?: string }).Ref === topicId),
        )
        .flatMap((r) => list(r.Properties?.PolicyDocument?.Statement) as Statement[]);
      expect(
        statements.some((s) => letsCloudWatchAlarmsPublish(s, topicId as string)),
        `${alarmId}: no policy of ${topicId} lets CloudWatch alarms publish`,
      ).toBe(true);
    }
    walked++;
  }
  return walked;
}
