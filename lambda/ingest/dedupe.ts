/** The ingest's delivery-id dedupe store: the shared protocol in `../shared/dedupe-store`, which the job producer uses too. */
export {
  createDynamoDedupeStore,
  DEFAULT_LEASE_SECONDS,
  type DynamoDedupeOptions,
} from '../shared/dedupe-store';
