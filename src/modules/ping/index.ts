// XEP-0199 XMPP Ping: answers pings, and optionally pings quiet clients to find dead connections.
import { z } from 'zod';
import { defineModule } from '../../core/module-api.js';
import { xml } from '../../core/xml/element.js';

export const NS_PING = 'urn:xmpp:ping';

export default defineModule({
  name: 'ping',
  spec: 'XEP-0199',
  description: 'Answers pings; with keepalive_interval set, pings every client and drops those that do not answer',
  options: z
    .object({
      /** Seconds between server-to-client pings; 0 turns them off. */
      keepalive_interval: z.number().int().min(0).default(0),
      /** Seconds a client has to answer before its stream is closed. */
      keepalive_timeout: z.number().int().min(1).default(60),
    })
    .strict()
    .default({ keepalive_interval: 0, keepalive_timeout: 60 }),
  setup(m) {
    m.feature(NS_PING);
    // §4.2 client-to-server, and a ping to an account's bare JID is answered by the server on its behalf.
    m.iq('get', NS_PING, 'ping', () => undefined, 'both');

    const { keepalive_interval: interval, keepalive_timeout: timeout } = m.options;
    if (interval > 0) {
      // §4.1 server-to-client: a client quiet for a whole interval is pinged; one that does not answer
      // (with a result or an error) is gone.
      const check = Math.max(1000, Math.floor((interval * 1000) / 4));
      m.every(check, () => {
        const quietSince = Date.now() - interval * 1000;
        for (const session of m.server.sessions.all()) {
          // A hibernating session (XEP-0198) has no connection to ping.
          if (session.host !== m.host.name || session.hibernating || session.lastReceived > quietSince || session.data.has('ping')) continue;
          session.data.set('ping', true);
          m.server.sendIq(xml('iq', { type: 'get', from: m.host.name, to: session.jid.full }, xml('ping', { xmlns: NS_PING })), timeout * 1000).then((reply) => {
            session.data.delete('ping');
            if (!reply) session.close('connection-timeout', 'no answer to ping');
          });
        }
      });
    }
  },
});
