/**
 * The banner every ESM bundle hookline builds starts with (the deployed functions, the local sandboxes, a
 * TypeScript configuration): CommonJS dependencies bundled into ESM call `require`, which ESM does not define.
 * One string for all, so a function runs locally from the same code it deploys.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __hooklineCreateRequire } from 'node:module'; const require = __hooklineCreateRequire(import.meta.url);";
