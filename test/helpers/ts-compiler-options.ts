import ts from 'typescript';

/** How the tests that read hookline's own types with the TypeScript compiler compile them: as the project does. */
export const PROJECT_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  skipLibCheck: true,
  types: ['node'],
};
