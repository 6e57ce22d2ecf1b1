import { describe, expect, it } from 'vitest';
import { FlowParentLinks, flowParentsToShow } from '../../lib/console/ui/flow-parents';

/**
 * A rendered tree as markup, components called: each element with its `data-*` and `href` attributes, its text and
 * its children (enough to tell which parents a block links, and where).
 */
function markup(node: unknown): string {
  if (node === null || node === undefined || typeof node === 'boolean') return '';
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(markup).join('');
  const { type, props } = node as { type: unknown; props: Record<string, unknown> };
  if (typeof type === 'function') return markup(type(props));
  const attributes = Object.entries(props)
    .filter(([name]) => name.startsWith('data-') || name === 'href')
    .map(([name, value]) => (value === true ? ` ${name}` : ` ${name}="${String(value)}"`))
    .join('');
  return `<${String(type)}${attributes}>${markup(props.children)}</${String(type)}>`;
}

const rendered = (result: Record<string, unknown> | null) => markup(FlowParentLinks({ result }));

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

  it('links each parent to its job page under its own heading: those to cancel apart from those whose page says whether they can be sent', () => {
    const html = rendered({
      flowParents: ['never-1', 'untold 1', 'never-2'],
      untoldFlowParents: ['untold 1'],
    });
    expect(html).toContain(
      '<div data-flow-parents>Cancel them on their job pages: <a href="#/job/never-1">never-1</a>, <a href="#/job/never-2">never-2</a></div>',
    );
    expect(html).toContain(
      '<div data-untold-flow-parents>Whether anything can still send them, on their job pages: <a href="#/job/untold%201">untold 1</a></div>',
    );
  });

  it('shows only the heading that has parents, and nothing for a delete that names none', () => {
    const untoldOnly = rendered({ flowParents: ['untold-1'], untoldFlowParents: ['untold-1'] });
    expect(untoldOnly).toContain('data-untold-flow-parents');
    expect(untoldOnly).not.toContain('data-flow-parents');
    const cancelOnly = rendered({ flowParents: ['never-1'] });
    expect(cancelOnly).toContain('<div data-flow-parents>');
    expect(cancelOnly).not.toContain('data-untold-flow-parents');
    expect(rendered({ flowParents: [], untoldFlowParents: [] })).toBe('');
    expect(rendered(null)).toBe('');
  });
});
