/**
 * Every command core and renderer, behind one module the program imports on first use: the cores load the AWS
 * SDK clients, so `hookline --help`, `--version` and `init` start without them.
 */
export { connect, loadConfig, systemClock } from './backend';
export { setConsumerEnabled } from './consumers';
export { failedList, failedShow } from './failed';
export { purge } from './purge';
export { redrive } from './redrive';
export {
  renderConsumer,
  renderFailedList,
  renderFailedShow,
  renderPurge,
  renderRedrive,
  renderSecretsSet,
  renderSend,
  renderStatus,
} from './render';
export { readSecretInput, refuseLocalSecret, setSigningSecret } from './secrets';
export { sendFailureHint, sendWebhook } from './send';
export { status } from './status';
