/**
 * Flows (`producer.sendFlow`): a parent job that runs only after all its children completed, and reads their
 * results (`ctx.children`). The tree is checked and flattened here, free of SDK clients; the producer records
 * each parent `waiting-children` (with the message to send later), then sends the jobs without children. The
 * consumer that completes a parent's last child sends the parent (`JobRecords.childCompleted`).
 */
import type { JobDefinition, JobInput } from '../shared/job';
import { type BatchItem, ProducerConfigError, type SendOptions, type SendResult } from './producer';

/** The most children one parent waits for: its record keeps their ids and (small) results within 400 KB. */
export const MAX_FLOW_CHILDREN = 50;

/** The most jobs of one flow, parents and children at every level. */
export const MAX_FLOW_JOBS = 500;

/** One job of a flow: a job as `sendBatch` takes it, and the children it waits for, if any. */
export interface FlowJob<J extends JobDefinition = JobDefinition> {
  readonly job: J;
  readonly payload: JobInput<J>;
  readonly options?: SendOptions;
  /** Jobs that must all complete before this one is sent (each may have children of its own). */
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
      throw new ProducerConfigError(
        `${path}: id ${JSON.stringify(id.slice(0, 80))} is used twice in this flow`,
      );
    seen.add(id);
    const index = nodes.length;
    const { children, ...item } = flow;
    nodes.push({
      item: { ...item, options: { ...flow.options, id } },
      id,
      ...(parentId ? { parentId } : {}),
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
