import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { exampleResolved, pipelineTemplate } from '../helpers/cdk';

describe('PipelineAlarms', () => {
  const { template } = pipelineTemplate();
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm'));

  it('alarms on any message in each dead-letter queue, with missing data not breaching', () => {
    const dlqAlarms = alarms().filter(
      (a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    // events, orders, and the heartbeat schedule's DLQ
    expect(dlqAlarms).toHaveLength(3);
    for (const alarm of dlqAlarms) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        Statistic: 'Maximum',
      });
      expect(JSON.stringify(alarm.Properties.Dimensions)).toContain('DeadLetterQueue');
    }
  });

  it('alarms when the oldest message is older than the threshold for 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
    const custom = exampleResolved({ alarms: { oldestMessageAge: Duration.minutes(30) } });
    pipelineTemplate(custom).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1800,
    });
  });

  it('alarms on errors and throttles of the ingest function and of every consumer', () => {
    const byMetric = (name: string) =>
      alarms().filter((a) => a.Properties.MetricName === name && a.Properties.Namespace === 'AWS/Lambda');
    expect(byMetric('Errors')).toHaveLength(3);
    expect(byMetric('Throttles')).toHaveLength(3);
  });

  it('alarms on API 5xx answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Threshold: 0,
    });
  });

  it('sends every alarm and its recovery to one SNS topic', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const alarm of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/AlarmsTopic/) }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/AlarmsTopic/) }]);
      expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(20);
    }
  });

  it('subscribes an email address when configured', () => {
    const { template: t } = pipelineTemplate(exampleResolved({ alarms: { email: 'ops@example.com' } }));
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('uses an existing topic instead of creating one', () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:pager';
    const { template: t } = pipelineTemplate(exampleResolved({ alarms: { existingTopicArn: arn } }));
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.arrayWith([arn]) });
  });
});
