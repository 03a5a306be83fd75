#!/usr/bin/python3
"""An independent XEP-0060 client for Quire's interop tests: slixmpp's xep_0060 plugin.

It logs in to 127.0.0.1:PORT over STARTTLS (accepting the test server's self-signed certificate),
then, at the pubsub service --service:

  1. asks disco#info of the service       {"event": "info", "identities": [[category, type], ...], "features": [...]}
  2. creates the node --node              {"event": "created", "node": ...}
  3. subscribes its bare JID              {"event": "subscribed", "subscription": ..., "subid": ...}
  4. publishes one item (id "first")      {"event": "published", "id": ...}
     and one without an id                {"event": "published", "id": <the service's id>}
  5. waits for the notification of 4      {"event": "notified", "node": ..., "id": ..., "title": ...}
  6. retrieves the items                  {"event": "items", "ids": [...], "titles": [...]}
  7. retracts "first", reads them again   {"event": "retracted", "ids": [...]}
  8. searches the node's archive          {"event": "archive", "results": [[result id, item id, title], ...],
     (XEP-0442 with XEP-0431's field)      "count": ..., "complete": ...}
                                          {"event": "done"}

On failure or timeout it prints {"event": "error", "message": ...}, writes it to stderr and exits with 1.
"""
import asyncio
import sys

from slix_common import arguments, emit, main, run_until_finished, scenario_client
import xml.etree.ElementTree as ET

try:
    import slixmpp
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher import StanzaPath
except ImportError:  # the node test checks this first and skips; this is for people running it by hand
    sys.stderr.write('slix_pubsub.py: slixmpp is not installed: apt-get install python3-slixmpp\n')
    sys.exit(3)

ATOM = 'http://www.w3.org/2005/Atom'


def entry(title):
    el = ET.Element('{%s}entry' % ATOM)
    ET.SubElement(el, '{%s}title' % ATOM).text = title
    return el


class Client(scenario_client(slixmpp, ['xep_0030', 'xep_0004', 'xep_0060', 'xep_0313'])):
    def __init__(self, args, finished):
        super().__init__(args, finished)
        self.notified = asyncio.get_event_loop().create_future()
        self.add_event_handler('pubsub_publish', self.on_publish)

    def on_publish(self, msg):
        items = msg['pubsub_event']['items']
        item = items['item']
        title = item['payload'].find('{%s}title' % ATOM) if item['payload'] is not None else None
        if not self.notified.done():
            self.notified.set_result({'node': items['node'], 'id': item['id'], 'title': title.text if title is not None else None})

    async def scenario(self):
        service, node, pubsub = self.args.service, self.args.node, self['xep_0060']
        self.send_presence()
        info = await self['xep_0030'].get_info(jid=service, timeout=10)
        emit('info', identities=[[i[0], i[1]] for i in info['disco_info']['identities']], features=sorted(info['disco_info']['features']))
        await pubsub.create_node(service, node, timeout=10)
        emit('created', node=node)
        result = await pubsub.subscribe(service, node, timeout=10)
        emit('subscribed', subscription=result['pubsub']['subscription']['subscription'], subid=result['pubsub']['subscription']['subid'])
        result = await pubsub.publish(service, node, id='first', payload=entry('Soliloquy'), timeout=10)
        emit('published', id=result['pubsub']['publish']['item']['id'])
        notification = await asyncio.wait_for(self.notified, timeout=10)
        emit('notified', **notification)
        result = await pubsub.publish(service, node, payload=entry('Second thoughts'), timeout=10)
        emit('published', id=result['pubsub']['publish']['item']['id'])
        result = await pubsub.get_items(service, node, timeout=10)
        items = list(result['pubsub']['items'])
        emit('items', ids=[i['id'] for i in items], titles=[i['payload'].find('{%s}title' % ATOM).text for i in items])
        await pubsub.retract(service, node, 'first', notify=True, timeout=10)
        result = await pubsub.get_items(service, node, timeout=10)
        emit('retracted', ids=[i['id'] for i in result['pubsub']['items']])
        await self.search_archive(service, node, 'THOUGHTS')

    async def search_archive(self, service, node, words):
        """XEP-0442: slixmpp's MAM stanzas with the node attribute, which its retrieve() does not set."""
        iq = self.make_iq_set(ito=service)
        iq['mam']['queryid'] = 'search'
        iq['mam'].xml.set('node', node)
        form = iq['mam']['form']
        form['type'] = 'submit'
        form.add_field(var='FORM_TYPE', ftype='hidden', value='urn:xmpp:mam:2')
        form.add_field(var='{urn:xmpp:fulltext:0}fulltext', value=words)
        results = []

        def on_result(msg):
            result = msg['mam_result']
            if result['queryid'] != 'search':
                return
            items = result['forwarded']['stanza']['pubsub_event']['items']
            item = items['item']
            title = item['payload'].find('{%s}title' % ATOM)
            results.append([result['id'], item['id'], title.text if title is not None else None])

        self.register_handler(Callback('archive results', StanzaPath('message/mam_result'), on_result))
        fin = await iq.send(timeout=10)
        self.remove_handler('archive results')
        emit('archive', results=results, count=int(fin['mam_fin']['rsm']['count']), complete=fin['mam_fin'].xml.get('complete') == 'true')


async def run(args):
    finished = asyncio.get_running_loop().create_future()
    await run_until_finished(Client(args, finished), finished, args)


def main_args():
    parser = arguments(__doc__, timeout=30.0)
    parser.add_argument('--service', required=True)
    parser.add_argument('--node', required=True)
    main('slix_pubsub.py', parser, run)


if __name__ == '__main__':
    main_args()
