// The publish-subscribe engine shared by the pubsub module (XEP-0060 on pubsub.<host>) and the pep module
// (XEP-0163 on every account). It is not a module itself: the modules give it storage, routing and presence.
export { ANONYMOUS, AccessCheck, AFFILIATIONS, type Affiliation, type AccessPurpose, type Asker } from './access.js';
export {
  ACCESS_MODELS,
  MAX_REVISIONS_FIELD,
  NS_HISTORY,
  NS_META_DATA,
  NS_NODE_CONFIG,
  NS_PUBLISH_OPTIONS,
  configForm,
  defaultNodeConfig,
  maxItemsOf,
  type AccessModel,
  type ConfigLimits,
  type NodeConfig,
  type NodeType,
} from './config.js';
export { NS_PUBSUB_ERRORS, PubSubError, QuotaExceeded, RevisionMismatch, pubsubError, pubsubErrorReply, unsupported } from './errors.js';
export { attachServiceHooks, serverHooks, type NodeChange, type PublishContext, type ServiceHooks, type StorageLimits } from './hooks.js';
export { NS_DATA, buildForm, findForm, parseBoolean, parseForm, type DataForm, type FormField } from '../core/data-forms.js';
export { NS_DELAY, NS_PUBSUB_EVENT, NS_SHIM, NotificationMessage, SharedEvent } from './notify.js';
export {
  COMMON_FEATURES,
  NODE_GET_PENDING,
  NS_COMMANDS,
  NS_PUBSUB,
  NS_PUBSUB_OWNER,
  NS_RSM,
  feature,
  getPendingCommand,
  ownerGet,
  ownerSet,
  pubsubGet,
  pubsubIqHandler,
  pubsubSet,
  serviceFeatures,
} from './protocol.js';
export {
  NS_PUBSUB_FILTER,
  NS_SUBSCRIBE_AUTHORIZATION,
  PubSubNode,
  PubSubService,
  type Item,
  type ItemCondition,
  type ItemsChange,
  type ItemsResult,
  type PageRequest,
  type PublishResult,
  type ResourcePresence,
  type ServiceEnvironment,
  type ServiceLimits,
  type Subscription,
  type TypeFilter,
  parseTypeFilter,
} from './service.js';
export { ListArchive, NodeItemsArchive, resultId, type NodeArchive } from './node-archive.js';
export { payloadText } from './search-text.js';
export { REVISIONS_STORE, RevisionStore, type Revision } from './revisions.js';
export { ITEMS_STORE, NODES_STORE, NO_USAGE, PubSubStore, type Usage } from './store.js';
export { NS_SUBSCRIBE_OPTIONS, defaultSubscriptionOptions, type SubscriptionOptions } from './subscription-options.js';
