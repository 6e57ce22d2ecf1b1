/**
 * Flows (`producer.sendFlow`): a parent job that runs only after all its children completed, and reads their
 * results (`ctx.children`). The tree is checked and flattened here, free of SDK clients; the producer records
 * each parent `waiting-children` (with the message to send later), then sends the jobs without children. The
 * consumer that completes a parent's last child sends the parent (`JobRecords.childCompleted`).
 */
import type { JobDefinition, JobInput, ParentOnFailure } from '../shared/job';
import {
  type BatchItem,
  ProducerConfigError,
  type SendOptions,
  type SendResult,
  shownOption,
} from './producer';

/** The most children one parent waits for: its record keeps their ids and (small) results within 400 KB. */
export const MAX_FLOW_CHILDREN = 50;

/** The most jobs of one flow, parents and children at every level. */
export const MAX_FLOW_JOBS = 500;

/** A flow job's options: what `send` takes, and, on a child, what its dead-lettering does to its parent. */
export interface FlowJobOptions extends SendOptions {
  /**
   * When this child is dead-lettered (a `PermanentError`, its own `attempts` or its queue's `maxReceiveCount`
   * spent), its parent becomes `child-failed`, its reason naming the child, and is not sent unless the child runs
   * again and completes (a redrive); a failed parent that is itself a child with this option fails its own.
   * Children only; not with `ignoreDependencyOnFailure`. Default: the parent waits until the child completes.
   */
  readonly failParentOnFailure?: boolean;
  /**
   * When this child is dead-lettered, it counts for its parent as done but failed: the parent is sent once the rest
   * completed, and its handler reads why in `ctx.failedChildren` (not in `ctx.children`). Children only; not with
   * `failParentOnFailure`. Default: the parent waits until the child completes.
   */
  readonly ignoreDependencyOnFailure?: boolean;
}

/** One job of a flow: a job as `sendBatch` takes it, and the children it waits for, if any. */
export interface FlowJob<J extends JobDefinition = JobDefinition> {
  /** The job's definition (`defineJob`): its type, schema and queue. */
  readonly job: J;
  /** The payload, checked against the job's schema before anything of the flow is written. */
  readonly payload: JobInput<J>;
  /**
   * What `send` takes for one job, and on a child what its dead-lettering does to its parent.
   * @default - a new id, and the queue's attempts and backoff
   */
  readonly options?: FlowJobOptions;
  /**
   * Jobs that must all complete before this one is sent (each may have children of its own).
   * @default - none: the job is sent at once
   */
  readonly children?: readonly FlowJob[];
}

/** What `sendFlow` did with each job of the tree, in the same shape. */
export interface FlowResult extends SendResult {
  readonly children?: readonly FlowResult[];
}

/** One job of a flattened flow: the item to prepare, its parent and its children (by index). */
export interface FlowNode {
  readonly item: BatchItem;
  readonly id: string;
  readonly parentId?: string;
  /** A child sent with `failParentOnFailure` or `ignoreDependencyOnFailure`: what its dead-lettering does. */
  readonly parentOnFailure?: ParentOnFailure;
  /** Indexes of its children; absent for a job without children (sent at once). */
  readonly children?: readonly number[];
}

/**
 * The flow as a list, parents before their children, every job given its id now (a child's envelope names its
 * parent's). Refuses a shape that cannot run: a parent with no children (it would wait for good), more than
 * {@link MAX_FLOW_CHILDREN}, an id used twice in the flow, a delay on a parent (it is sent when its children
 * complete).
 */
export function flattenFlow(root: FlowJob, newId: () => string): FlowNode[] {
  const nodes: FlowNode[] = [];
  const seen = new Set<string>();
  const visit = (flow: FlowJob, parentId: string | undefined, path: string): number => {
    if (nodes.length >= MAX_FLOW_JOBS)
      throw new ProducerConfigError(`a flow holds at most ${MAX_FLOW_JOBS} jobs: send a larger one in parts`);
    const id = flow.options?.id ?? newId();
    if (seen.has(id))
      throw new ProducerConfigError(`${path}: id ${shownOption(id)} is used twice in this flow`);
    seen.add(id);
    const index = nodes.length;
    const { children, ...item } = flow;
    const { failParentOnFailure: _fail, ignoreDependencyOnFailure: _ignore, ...options } = flow.options ?? {};
    const parentOnFailure = parentOnFailureOf(flow, parentId !== undefined, path);
    nodes.push({
      item: { ...item, options: { ...options, id } },
      id,
      ...(parentId ? { parentId } : {}),
      ...(parentOnFailure ? { parentOnFailure } : {}),
    });
    if (children === undefined) return index;
    checkParent(flow, children, path);
    const indexes = children.map((child, i) => visit(child, id, `${path}.children[${i}]`));
    nodes[index] = { ...(nodes[index] as FlowNode), children: indexes };
    return index;
  };
  visit(root, undefined, 'flow');
  return nodes;
}

/** What a job's options ask its dead-lettering to do to its parent; refuses what cannot be meant. */
function parentOnFailureOf(flow: FlowJob, isChild: boolean, path: string): ParentOnFailure | undefined {
  const { failParentOnFailure: fail, ignoreDependencyOnFailure: ignore } = flow.options ?? {};
  const named = `${path} (job ${flow.job?.type}${flow.options?.id === undefined ? '' : `, id ${shownOption(flow.options.id)}`})`;
  for (const [option, value] of [
    ['failParentOnFailure', fail],
    ['ignoreDependencyOnFailure', ignore],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean')
      throw new ProducerConfigError(
        `${named}: ${option} must be true or false, got ${JSON.stringify(value)}`,
      );
    if (value && !isChild)
      throw new ProducerConfigError(
        `${named}: ${option} is a child's option, and the flow's top job has no parent: set it on a child`,
      );
  }
  if (fail && ignore)
    throw new ProducerConfigError(
      `${named}: failParentOnFailure and ignoreDependencyOnFailure contradict each other (fail the parent, or let it run without this child): choose one`,
    );
  return fail ? 'fail' : ignore ? 'ignore' : undefined;
}

function checkParent(flow: FlowJob, children: unknown, path: string): void {
  const type = flow.job?.type;
  if (!Array.isArray(children) || children.length === 0 || children.length > MAX_FLOW_CHILDREN) {
    throw new ProducerConfigError(
      `${path} (job ${type}): children must be a list of 1 to ${MAX_FLOW_CHILDREN} jobs (a parent with none would wait for good): leave children out to send a job without any`,
    );
  }
  if (flow.options?.delay !== undefined) {
    throw new ProducerConfigError(
      `${path} (job ${type}): a parent takes no delay: it is sent when its last child completes (delay its children instead)`,
    );
  }
}

/** The results in the flow's shape, from each job's result by index. */
export function flowResultOf(
  nodes: readonly FlowNode[],
  results: ReadonlyMap<number, SendResult>,
): FlowResult {
  const at = (index: number): FlowResult => {
    const node = nodes[index] as FlowNode;
    const result = results.get(index) as SendResult;
    return node.children ? { ...result, children: node.children.map(at) } : result;
  };
  return at(0);
}
