#!/usr/bin/python3
"""slixmpp (asyncio) as the second client of an RFC 6121 subscription handshake with Quire.

It logs in to 127.0.0.1:PORT over STARTTLS (accepting the test server's self-signed certificate),
asks for the roster, sends initial presence, subscribes to --contact, and then answers the
contact's own request, until both sides are subscribed ("both"). Everything the test asserts on is
printed on stdout, one JSON object per line:

  {"event": "session_start", "jid": ...}                      the resource is bound
  {"event": "roster", "items": {jid: item}}                   the roster get result (§2.2)
  {"event": "subscribe_sent", "to": ...}                      presence type=subscribe went out (§3.1.1)
  {"event": "roster_push", "jid": ..., "subscription": ..., "ask": ...}   each roster push (§2.1.6)
  {"event": "subscribed", "from": ...}                        the contact approved (§3.1.6)
  {"event": "presence", "from": ..., "show": ..., "status": ...}  the contact's available presence
  {"event": "subscribe", "from": ...}                         the contact asks back (§3.1.3)
  {"event": "approved", "to": ...}                            presence type=subscribed went out (§3.1.4)
  {"event": "final", "subscription": ..., "pending_out": ...} slixmpp's own roster view at the end
  {"event": "done"}

On failure or timeout it prints {"event": "error", "message": ...}, writes it to stderr and exits 1;
without slixmpp it exits 3.
"""
import asyncio
import sys

from slix_common import Failure, accept_test_certificate, arguments, emit, main, run_until_finished

try:
    import slixmpp
except ImportError:  # the node test checks this first and skips; this is for people running it by hand
    sys.stderr.write('slix_subscribe.py: slixmpp is not installed: apt-get install python3-slixmpp\n')
    sys.exit(3)






def item_view(item):
    return {'subscription': item['subscription'], 'ask': item['ask'] or None, 'name': item['name'] or None}


class Subscriber(slixmpp.ClientXMPP):
    def __init__(self, args, finished):
        super().__init__(args.jid, args.password)
        self.args = args
        self.contact = slixmpp.JID(args.contact).bare
        self.finished = finished
        self.saw_presence = False
        # The test server's certificate is self-signed and made per run.
        accept_test_certificate(self)
        # The script answers subscription requests itself, so that what it does is what the test expects.
        self.auto_authorize = None
        self.auto_subscribe = False
        self.add_event_handler('failed_all_auth', lambda _: self.fail('authentication failed with every mechanism'))
        self.add_event_handler('no_auth', lambda _: self.fail('no usable SASL mechanism'))
        self.add_event_handler('stream_error', lambda err: self.fail('stream error: %s' % err['condition']))
        self.add_event_handler('disconnected', lambda _: self.fail('disconnected before the handshake finished'))
        self.add_event_handler('connection_failed', lambda err: self.fail('connection failed: %s' % err))
        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('roster_update', self.on_roster_update)
        self.add_event_handler('presence_subscribed', self.on_subscribed)
        self.add_event_handler('presence_subscribe', self.on_subscribe)
        # slixmpp names the event of an available presence after its <show/>.
        for show in ('available', 'chat', 'away', 'dnd', 'xa'):
            self.add_event_handler('presence_' + show, self.on_available)

    def fail(self, message):
        if not self.finished.done():
            self.finished.set_exception(Failure(message))

    async def on_session_start(self, _event):
        emit('session_start', jid=str(self.boundjid))
        try:
            result = await self.get_roster(timeout=10)
        except Exception as err:  # IqError or IqTimeout
            self.fail('roster get failed: %s' % err)
            return
        emit('roster', items={str(jid): item_view(item) for jid, item in result['roster']['items'].items()})
        self.send_presence(pstatus='from slixmpp')
        self.send_presence(pto=self.contact, ptype='subscribe')
        emit('subscribe_sent', to=self.contact)

    def on_roster_update(self, iq):
        if iq['type'] != 'set':
            return
        for jid, item in iq['roster']['items'].items():
            emit('roster_push', jid=str(jid), subscription=item['subscription'], ask=item['ask'] or None)
        self.check_finished()

    def on_subscribed(self, presence):
        emit('subscribed', **{'from': str(presence['from']), 'to': str(presence['to'])})

    def on_subscribe(self, presence):
        emit('subscribe', **{'from': str(presence['from'])})
        if presence['from'].bare == self.contact:
            self.send_presence(pto=self.contact, ptype='subscribed')
            emit('approved', to=self.contact)

    def on_available(self, presence):
        if presence['from'].bare != self.contact:
            return
        emit('presence', **{'from': str(presence['from']), 'show': presence['show'] or None, 'status': presence['status'] or None})
        self.saw_presence = True
        self.check_finished()

    def check_finished(self):
        item = self.client_roster[self.contact]
        if self.saw_presence and item['subscription'] == 'both' and not self.finished.done():
            emit('final', subscription=item['subscription'], pending_out=bool(item['pending_out']))
            self.finished.set_result(None)


async def run(args):
    finished = asyncio.get_running_loop().create_future()
    await run_until_finished(Subscriber(args, finished), finished, args)


def main_args():
    parser = arguments(__doc__)
    parser.add_argument('--contact', required=True, help='the bare JID to subscribe to')
    main('slix_subscribe.py', parser, run)


if __name__ == '__main__':
    main_args()
