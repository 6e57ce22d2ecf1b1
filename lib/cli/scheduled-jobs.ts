/**
 * The jobs a deployed stack's producers delayed beyond SQS's 15 minutes: each waits in a one-time EventBridge
 * Scheduler schedule of the stack until its time, in no queue's DELAYED, so `hookline status` counts them from
 * Scheduler's list of those schedules. Loaded for a deployed stack only: local mode counts its own stand-in's.
 */

import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { credentialFailureOfError } from '../../lambda/shared/credential-failure';
import { ActionDeniedError, type Denial, denialOf, errorName, isThrottling, needing } from './errors';

/** The IAM action the count needs. */
export const LIST_SCHEDULES = 'scheduler:ListSchedules';

/** The most schedules one `ListSchedules` page holds. */
const SCHEDULES_PER_PAGE = 100;

/**
 * How many pages `status` reads at most, one after the other (each page's token asks for the next): a status answers
 * in about a second, and a backlog past this many schedules is said as "at least" that many.
 */
export const SCHEDULED_JOB_PAGES = 10;

/** The most jobs `status` counts exactly. */
export const SCHEDULED_JOBS_COUNTED = SCHEDULES_PER_PAGE * SCHEDULED_JOB_PAGES;

/** The jobs waiting in the stack's one-time schedules, as far as `status` counted them, or why it could not. */
export type ScheduledJobsCount =
  | {
      /** The jobs counted (of every queue, or of the one queue asked for). */
      readonly count: number;
      /** True when listing stopped at {@link SCHEDULED_JOB_PAGES} with schedules left: `count` is a lower bound. */
      readonly atLeast: boolean;
    }
  /** The caller may not list the schedules. */
  | { readonly denied: Denial }
  /** Scheduler throttled the listing, or failed otherwise: why, as a person reads it. */
  | { readonly failed: string };

/** A way to count the stack's job schedules: {@link countScheduledJobs}, or one that reuses its recent answer. */
export type ScheduledJobsCounter = (
  scheduler: SchedulerClient,
  stackName: string,
  queueArn?: string,
) => Promise<ScheduledJobsCount>;

/**
 * Counts the stack's one-time job schedules (Scheduler's `default` group, each named by the stack's prefix and a hash)
 * that will still send their job: `ENABLED` ones. One whose time passed is deleted by Scheduler once it sent its job
 * (`ActionAfterCompletion: DELETE`), so it counts until then, while its delivery is retried too; a cancelled job's
 * schedule still sends it (its consumer skips it) and counts until its time, as local mode counts it. With
 * `queueArn`, only the schedules sending to that queue.
 */
export async function countScheduledJobs(
  scheduler: SchedulerClient,
  stackName: string,
  queueArn?: string,
): Promise<ScheduledJobsCount> {
  // Loaded here, not at the top: `status --local` renders with this module's numbers and loads neither.
  const [{ ListSchedulesCommand }, { JOB_SCHEDULE_GROUP, jobScheduleNamePrefix, isJobScheduleName }] =
    await Promise.all([import('@aws-sdk/client-scheduler'), import('../../lambda/shared/producer-config')]);
  const prefix = jobScheduleNamePrefix(stackName);
  let count = 0;
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < SCHEDULED_JOB_PAGES; page++) {
      const answer = await needing(
        LIST_SCHEDULES,
        scheduler.send(
          new ListSchedulesCommand({
            GroupName: JOB_SCHEDULE_GROUP,
            NamePrefix: prefix,
            State: 'ENABLED',
            MaxResults: SCHEDULES_PER_PAGE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      count += (answer.Schedules ?? []).filter(
        (s) =>
          isJobScheduleName(prefix, s.Name ?? '') && (queueArn === undefined || s.Target?.Arn === queueArn),
      ).length;
      nextToken = answer.NextToken;
      if (!nextToken) return { count, atLeast: false };
    }
    return { count, atLeast: true };
  } catch (error) {
    return notCounted(error);
  }
}

/**
 * Why the schedules could not be listed: the caller may not, Scheduler throttled it, or it failed otherwise (a
 * failure of the process's AWS setup is thrown, for the command to explain as any other call's). A
 * throttled listing names no command to run again: the console lists again by itself, saying how often.
 */
function notCounted(error: unknown): ScheduledJobsCount {
  if (error instanceof ActionDeniedError) return { denied: denialOf(error) };
  // Expired or missing credentials are no fact about the schedules: the command fails with the sign-in's fix.
  if (credentialFailureOfError(error)) throw error;
  const name = errorName(error) || 'error';
  return {
    failed: isThrottling(error)
      ? `EventBridge Scheduler throttled ${LIST_SCHEDULES} (${name}) after retries: a later listing may count them`
      : `EventBridge Scheduler did not answer ${LIST_SCHEDULES} (${name})`,
  };
}
