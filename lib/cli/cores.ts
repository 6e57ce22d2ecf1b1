/**
 * Every command core and renderer, behind one module the program imports on first use: the cores load the AWS
 * SDK clients, so `hookline --help`, `--version` and `init` start without them.
 */
export { appendToJournal } from '../local/journal';
export { localJournalPath } from '../local/state-file';
export { parseTime, timeOption } from './archive';
export { connect, loadConfig, systemClock } from './backend';
export { setConsumerEnabled } from './consumers';
export { failedList, failedShow, failedSummary } from './failed';
export { failedDelete, renderFailedDelete } from './failed-delete';
export { failedRestore, renderFailedRestore } from './failed-restore';
export { failedSave, renderFailedSave } from './failed-save';
export {
  forwardOf,
  forwardSecret,
  renderForwardRotation,
  renderForwardSecret,
  rotateForwardSecret,
} from './forward';
export {
  debouncedSendReplacedReader,
  jobQueue,
  jobRecordReader,
  jobsCancel,
  jobsList,
  jobsShow,
  jobsStore,
  renderJobCancel,
  renderJobList,
  renderJobShow,
  withDeadLetteredJob,
  withDeadLetteredJobs,
} from './jobs';
export {
  allCancelled,
  cancelRequestOf,
  checkTypeAndTenant,
  jobsCancelMatching,
  matchesTypeAndTenant,
  renderJobsCancelMatching,
  withConfiguredQueue,
} from './jobs-cancel-matching';
export { purge } from './purge';
export { redrive } from './redrive';
export {
  renderConsumer,
  renderFailedList,
  renderFailedShow,
  renderFailedSummary,
  renderPurge,
  renderRedrive,
  renderReplay,
  renderSecretsSet,
  renderSend,
  renderStatus,
  renderTrace,
} from './render';
export { replay } from './replay';
export { savedFileWriter } from './saved-dead-letters';
export { readSecretInput, refuseLocalSecret, setSigningSecret } from './secrets';
export { sendFailureHint, sendWebhook } from './send';
export { status } from './status';
export { checkSince, renderTailLine, tailJournal, tailSelection, tailSourceNote } from './tail';
export { tailLogGroups } from './tail-logs';
export { trace, traceWindow } from './trace';
