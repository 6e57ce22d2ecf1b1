import { describe, expect, it } from 'vitest';
import { flowParentsToShow } from '../../lib/console/ui/flow-parents';

describe("a finished delete's flow parents on the page", () => {
  it('asks to cancel only the parents that can never be sent, and to look at those another child may still send', () => {
    expect(flowParentsToShow(['never-1', 'untold-1', 'never-2'], ['untold-1'])).toEqual({
      cancel: ['never-1', 'never-2'],
      check: ['untold-1'],
    });
  });

  it('asks to cancel every parent of a result without untold ones, as one from before the split has', () => {
    expect(flowParentsToShow(['report-1'], [])).toEqual({ cancel: ['report-1'], check: [] });
  });
});
