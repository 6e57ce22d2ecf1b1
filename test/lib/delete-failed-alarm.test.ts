/**
 * Two consumer and ingest metrics an operator needs to see, walked through the synthesized stack: records a consumer
 * finished but could not delete itself (`DeleteFailed`: alarmed on when it lasts, graphed per queue), and requests a
 * source that opted out of verification let in (`Unverified`: graphed, not alarmed, since the opt-out is the reason).
 */
import { describe, expect, it } from 'vitest';
import { DELETE_FAILED_PERIODS } from '../../lib/alarm-conditions';
import { resolveConfig } from '../../lib/config';
import { type Json, type Resources, walkAlarmsToPublishGrants } from '../helpers/alarms';
import { exampleResolved, pipelineTemplate, renderIntrinsics } from '../helpers/cdk';

/** The synthesized stack of `config`: its resources, and its dashboard's widgets as CloudWatch reads them. */
function synthesized(config = exampleResolved()) {
  const resources = pipelineTemplate(config).template.toJSON().Resources as Resources;
  const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  const widgets = (
    JSON.parse(renderIntrinsics(dashboard?.Properties?.DashboardBody)) as {
      widgets: { type: string; properties: { title?: string; metrics?: unknown[][]; alarms?: string[] } }[];
    }
  ).widgets;
  return { resources, widgets };
}

/** The alarms of `resources` whose logical id contains `name`. */
const alarmsNamed = (resources: Resources, name: string): [string, Json][] =>
  Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes(name));

describe('records a consumer finished but could not delete itself (DeleteFailed)', () => {
  const { resources, widgets } = synthesized();
  const alarms = alarmsNamed(resources, 'DeleteFailed');

  it("page once every consumer's failed deletes, summed, last 3 five-minute periods in a row", () => {
    expect(alarms).toHaveLength(1);
    const [, alarm] = alarms[0] as [string, Json];
    const properties = alarm.Properties;
    expect(properties.Metrics).toStrictEqual([
      {
        Expression: 'SELECT SUM(DeleteFailed) FROM SCHEMA("Hookline/Hookline", service, type)',
        Id: 'expr_1',
        Label: 'DeleteFailed',
        Period: 300,
        ReturnData: true,
      },
    ]);
    expect(properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: DELETE_FAILED_PERIODS,
      DatapointsToAlarm: DELETE_FAILED_PERIODS,
      TreatMissingData: 'notBreaching',
    });
    expect(DELETE_FAILED_PERIODS).toBe(3);
  });

  it('say what it means, the likely causes and the query that finds which consumer and why', () => {
    const [, alarm] = alarms[0] as [string, Json];
    const description = renderIntrinsics(alarm.Properties.AlarmDescription);
    expect(description).toContain('in each of 3 periods in a row (15 minutes; metric DeleteFailed)');
    expect(description).toContain("SQS throttling a FIFO queue's deletes");
    expect(description).toContain('a dead letter lands in the DLQ twice');
    // The consumers' WARN line, as the runtime writes it, found in every log group the stack publishes.
    expect(description).toContain("--query-string 'filter @message like /DeleteMessage failed/");
    expect(description).toContain('describe-stacks --stack-name Hookline');
    expect(description.length).toBeLessThanOrEqual(1024);
  });

  it("stay within CloudWatch's 1,024 characters with the longest stack name", () => {
    const longest = resolveConfig({
      stackName: `S${'x'.repeat(127)}`,
      sources: { github: { type: 'github' } },
      queues: { events: { consumer: { entry: 'lambda/consumers/events.ts' } } },
      defaultRoute: { queues: ['events'] },
    });
    const [[, alarm] = ['', {}]] = alarmsNamed(synthesized(longest).resources, 'DeleteFailed');
    const description = renderIntrinsics(alarm.Properties?.AlarmDescription);
    expect(description.length).toBeLessThanOrEqual(1024);
    // The query, which would not fit, is described instead.
    expect(description).toContain('Which consumer and why: their WARN lines "DeleteMessage failed"');
  });

  it('notify the alarm topic, which lets CloudWatch publish, and show on the dashboard', () => {
    const only = Object.fromEntries(
      Object.entries(resources).filter(
        ([id, r]) => r.Type !== 'AWS::CloudWatch::Alarm' || id.includes('DeleteFailed'),
      ),
    );
    expect(walkAlarmsToPublishGrants(only)).toBe(1);
    const [id] = alarms[0] as [string, Json];
    expect(widgets.flatMap((w) => w.properties.alarms ?? [])).toContain(`resolved-${id}.Arn`);
  });

  it('are graphed per queue with a consumer', () => {
    const graph = widgets.find((w) => w.properties.title?.startsWith('Records whose own delete failed'));
    const expressions = (graph?.properties.metrics ?? []).map(
      (m) => (m[0] as { expression: string }).expression,
    );
    expect(expressions).toStrictEqual(
      ['events', 'orders'].map(
        (q) =>
          `SUM(SEARCH('{"Hookline/Hookline",service,type} MetricName="DeleteFailed" service="${q}"', 'Sum', 60))`,
      ),
    );
  });

  it('have no alarm in a pipeline without consumers, where nothing deletes', () => {
    const plain = resolveConfig({
      sources: { github: { type: 'github' } },
      queues: { events: {} },
      defaultRoute: { queues: ['events'] },
    });
    expect(alarmsNamed(synthesized(plain).resources, 'DeleteFailed')).toHaveLength(0);
  });
});

describe('requests a source that opted out of verification let in (Unverified)', () => {
  it("are graphed from the ingest's metric, the sources named; not alarmed: the opt-out expects them", () => {
    const config = exampleResolved({
      sources: {
        github: { type: 'github' },
        play: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
      },
      routes: [],
    });
    const { resources, widgets } = synthesized(config);
    const graphs = widgets.filter((w) => w.properties.title?.startsWith('Requests let in unverified'));
    expect(graphs.map((w) => w.properties.title)).toStrictEqual([
      'Requests let in unverified (verification opted out: play)',
    ]);
    expect(graphs[0]?.properties.metrics?.map((m) => m.slice(0, 4))).toStrictEqual([
      ['Hookline/Hookline', 'Unverified', 'service', 'ingest'],
    ]);
    const alarmed = Object.values(resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties).includes('Unverified'),
    );
    expect(alarmed).toHaveLength(0);
  });

  it('have no graph in a pipeline whose sources all verify', () => {
    const { widgets } = synthesized();
    expect(widgets.filter((w) => w.properties.title?.startsWith('Requests let in unverified'))).toHaveLength(
      0,
    );
  });
});
