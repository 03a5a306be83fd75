import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commentsNodeConfig, DEFAULT_MAX_ARTICLE_BYTES, microblogNodeConfig, profileProblems, SOCIAL_FEED_FEATURES, socialFeedNodeConfig } from './profiles.js';
import { testPost } from './test-fixtures.js';

test('node configurations carry what XEP-0472 and XEP-0277 require', () => {
  const base = socialFeedNodeConfig();
  assert.deepEqual([base.type, base.notify_retract, base.max_items, base.persist_items, base.send_last_published_item, base.deliver_payloads], ['urn:xmpp:pubsub-social-feed:1', true, 'max', true, 'never', false]);
  assert.equal(base.max_payload_size, DEFAULT_MAX_ARTICLE_BYTES);
  assert.equal(DEFAULT_MAX_ARTICLE_BYTES, 1048576);
  const microblog = microblogNodeConfig(2048);
  assert.deepEqual([microblog.type, microblog.notify_retract, microblog.max_items, microblog.deliver_payloads, microblog.max_payload_size], ['urn:xmpp:microblog:0', true, 'max', true, 2048]);
  const comments = commentsNodeConfig();
  assert.deepEqual([comments.notify_retract, comments.access_model, comments.publish_model, comments.itemreply], [true, 'open', 'open', 'publisher']);
  assert.deepEqual(SOCIAL_FEED_FEATURES, ['urn:xmpp:pubsub-social-feed:1', 'urn:xmpp:microblog:0', 'urn:xmpp:pubsub-social-feed:gallery:1']);
});

test('a gallery post needs an image enclosure (XEP-0472 §profile_gallery)', () => {
  const gallery = 'urn:xmpp:pubsub-social-feed:gallery:1';
  assert.match(profileProblems(testPost('a'), gallery)[0], /gallery post needs a picture/);
  assert.match(profileProblems(testPost('a', { links: [{ rel: 'enclosure', href: 'https://x.example/a.mp3', type: 'audio/mpeg' }] }), gallery)[0], /XEP-0472 §profile_gallery/);
  assert.deepEqual(profileProblems(testPost('a', { links: [{ rel: 'enclosure', href: 'https://x.example/a.jpg', type: 'image/jpeg' }] }), gallery), []);
  assert.deepEqual(profileProblems(testPost('a'), 'urn:xmpp:microblog:0'), []);
});
