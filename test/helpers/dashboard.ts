/**
 * Reads a dashboard widget's series as CloudWatch draws them: each visible expression with the metrics its ids
 * name, so a test sees what a series adds up (which metric of which queue, at what statistic and period).
 */

/** One metric an expression uses: its name, the dimension value it is read for, its statistic and period. */
export interface ExpressionTerm {
  readonly metric: string;
  readonly dimension: string;
  readonly stat: string | undefined;
  readonly period: number | undefined;
}

/** A visible series that is a sum of metrics (`a + b`), by label. */
export interface SummedSeries {
  readonly label: string | undefined;
  readonly terms: readonly ExpressionTerm[];
}

type Options = { id?: string; label?: string; expression?: string; stat?: string; period?: number };

/** Every visible summing expression of a widget's `metrics`, each with the metrics it adds. */
export function summedSeriesOf(metrics: readonly unknown[][]): SummedSeries[] {
  const byId = new Map<string, unknown[]>();
  for (const m of metrics) {
    const id = (m.at(-1) as Options).id;
    if (id !== undefined) byId.set(id, m);
  }
  return metrics
    .map((m) => m.at(-1) as Options)
    .filter((o) => o.expression !== undefined)
    .map((o) => ({
      label: o.label,
      terms: (o.expression ?? '').split('+').map((id) => {
        const m = byId.get(id.trim());
        if (!m)
          throw new Error(`expression ${o.expression} names ${id.trim()}, which the widget does not hold`);
        const options = m.at(-1) as Options;
        return { metric: String(m[1]), dimension: String(m[3]), stat: options.stat, period: options.period };
      }),
    }));
}
