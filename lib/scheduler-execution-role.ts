/**
 * The roles EventBridge Scheduler assumes to deliver hookline's schedules. Each trusts Scheduler only on behalf of
 * this account (`aws:SourceAccount`) and only for schedules of the one schedule group whose schedules name it
 * (`aws:SourceArn`): AWS's confused-deputy guidance for Scheduler scopes the execution role's trust to a schedule
 * group's ARN, never to a schedule or a name prefix.
 *
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** Properties of {@link schedulerExecutionRole}. */
export interface SchedulerExecutionRoleProps {
  /** The role's description: which schedules send with it, and to what. */
  readonly description: string;
  /** The ARN of the schedule group whose schedules name this role (`defaultScheduleGroupArn` for `default`). */
  readonly scheduleGroupArn: string;
}

/** A role only Scheduler may assume, for this account's schedules in `scheduleGroupArn`; it has no permission yet. */
export function schedulerExecutionRole(
  scope: Construct,
  id: string,
  props: SchedulerExecutionRoleProps,
): iam.Role {
  return new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        ArnEquals: { 'aws:SourceArn': props.scheduleGroupArn },
      },
    }),
    description: props.description,
  });
}

/** `arn:<partition>:scheduler:<region>:<account>:schedule-group/default`: where a schedule without a group goes. */
export function defaultScheduleGroupArn(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'scheduler',
    resource: 'schedule-group',
    resourceName: 'default',
  });
}
