/**
 * Local mode's public surface: start the whole pipeline (`startLocalMode`), or only the emulators and the
 * topology (tests, tools).
 */
export { LOCAL_CREDENTIALS, localDynamoClient, localS3Client, localSqsClient } from './clients';
export { startEmulatorsInThread } from './emulator-thread';
export { assertNodeVersion, type EmulatorOptions, type Emulators, startEmulators } from './emulators';
export { type LocalMode, type LocalModeOptions, type LocalStatus, startLocalMode } from './local-mode';
export { type LocalEvent, Reporter } from './reporter';
export { defaultDevSecret, localSecretId, localSecrets, secretEnvName } from './secrets';
export { createTopology, type LocalQueue, type LocalTopology, localQueueNames } from './topology';
