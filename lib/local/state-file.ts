/**
 * `.hookline/local.json`: the contract with the CLI and the job producer, whose one schema lives in
 * `lambda/shared/local-state.ts` (the producer, under `lambda/`, reads it too).
 */
export {
  type LocalState,
  localStatePath,
  localStateSchema,
  STATE_FILE_NAME,
} from '../../lambda/shared/local-state';
