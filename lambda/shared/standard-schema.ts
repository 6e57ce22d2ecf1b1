/**
 * The Standard Schema interface (https://standardschema.dev), copied as its authors intend so that no runtime
 * dependency is needed: zod 4, valibot, arktype and others implement it, so a job may be defined with any of them.
 */

/** A schema that validates `Input` into `Output`. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

export declare namespace StandardSchemaV1 {
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  export interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  export interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  export interface PathSegment {
    readonly key: PropertyKey;
  }
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['input'];
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['output'];
}

/** One issue as `<dot path>: <message>` (`(root)` for the value itself), for errors and dead-letter reasons. */
export function describeIssue(issue: StandardSchemaV1.Issue): string {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.');
  return `${path || '(root)'}: ${issue.message}`;
}

/**
 * Validates through the schema's Standard Schema interface, which runs an asynchronous check (a zod `refine`
 * with an async function) as readily as a synchronous one; the issues when it refuses the value.
 */
export async function standardValidate<Output>(
  schema: StandardSchemaV1<unknown, Output>,
  value: unknown,
): Promise<{ readonly value: Output } | { readonly issues: readonly StandardSchemaV1.Issue[] }> {
  const result = await schema['~standard'].validate(value);
  return result.issues ? { issues: result.issues } : { value: result.value };
}
