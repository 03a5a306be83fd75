// Every module Quire ships, by the name the config uses. One folder per specification.
import type { ModuleDefinition } from '../core/module-api.js';
import caps from './caps/index.js';
import disco from './disco/index.js';
import offline from './offline/index.js';
import ping from './ping/index.js';
import presence from './presence/index.js';
import register from './register/index.js';
import roster from './roster/index.js';
import time from './time/index.js';
import version from './version/index.js';
import contactAddresses from './contact-addresses/index.js';
import last from './last/index.js';
import privateStorage from './private/index.js';
import vcard from './vcard/index.js';
import blocking from './blocking/index.js';
import stanzaId from './stanza-id/index.js';
import carbons from './carbons/index.js';
import csi from './csi/index.js';
import sm from './sm/index.js';
import pubsub from './pubsub/index.js';
import pep from './pep/index.js';
import bookmarks from './bookmarks/index.js';
import avatars from './avatars/index.js';
import vcard4 from './vcard4/index.js';
import mam from './mam/index.js';
import storage from './storage/index.js';
import adhoc from './adhoc/index.js';
import appTokens from './app-tokens/index.js';
import microblog from './microblog/index.js';
import socialFeed from './social-feed/index.js';
import blog from './blog/index.js';
import pubsubMam from './pubsub-mam/index.js';

// Each module is typed by its own options; the registry only needs their common shape.
const all = [caps, disco, offline, ping, presence, register, roster, time, version, contactAddresses, last, privateStorage, vcard, blocking, stanzaId, carbons, csi, pubsub, pep, bookmarks, avatars, vcard4, sm, mam, storage, adhoc, appTokens, microblog, socialFeed, blog, pubsubMam] as unknown as ModuleDefinition<unknown>[];

export const availableModules = new Map<string, ModuleDefinition<unknown>>(all.map((m) => [m.name, m]));
