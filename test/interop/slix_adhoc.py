#!/usr/bin/python3
"""An independent XEP-0050 client for Quire's interop tests: slixmpp's xep_0050 plugin and its command workflow.

It logs in to 127.0.0.1:PORT over STARTTLS (accepting the test server's self-signed certificate), then, at the
server --server:

  1. lists the commands (disco#items of the commands node)
                                      {"event": "commands", "items": [[jid, node, name], ...]}
  2. starts the command --node with start_command() and reads its form
                                      {"event": "form", "status": ..., "actions": [...], "fields": {var: {type, label, value, options}}}
  3. fills it in (label, scope, nodes, expires from the options) and sends it with complete_command()
                                      {"event": "completed", "status": ..., "notes": [[type, text], ...], "values": {var: value}}
  4. runs --list-node, which completes at once, and reads its result table
                                      {"event": "listed", "status": ..., "ids": [...]}
                                      {"event": "done"}

On failure or timeout it prints {"event": "error", "message": ...}, writes it to stderr and exits with 1.
"""
import asyncio
import sys

from slix_common import Failure, arguments, emit, main, run_until_finished, scenario_client

try:
    import slixmpp
except ImportError:  # the node test checks this first and skips; this is for people running it by hand
    sys.stderr.write('slix_adhoc.py: slixmpp is not installed: apt-get install python3-slixmpp\n')
    sys.exit(3)


def field_view(field):
    return {
        'type': field['type'],
        'label': field['label'],
        'value': field['value'],
        'options': [option['value'] for option in field['options']],
    }


class Client(scenario_client(slixmpp, ['xep_0030', 'xep_0004', 'xep_0050'])):
    def __init__(self, args, finished):
        super().__init__(args, finished)
        self.completed = asyncio.get_event_loop().create_future()

    def fail(self, message):
        super().fail(message)
        if not self.completed.done():
            self.completed.set_exception(Failure(message))

    # The plugin's workflow: handlers stored in the session dict are called with each answer.

    def guarded(self, handler):
        """The plugin calls session handlers from its callback: a failure there must end the scenario at once."""
        def run(iq, session):
            try:
                handler(iq, session)
            except Exception as err:  # noqa: BLE001 (reported as the scenario's failure)
                self.fail('%s: %r' % (handler.__name__, err))
        return run

    def on_form(self, iq, session):
        command = iq['command']
        form = command['form']
        emit('form', status=command['status'], actions=sorted(command['actions']),
             fields={var: field_view(field) for var, field in form.get_fields().items()})
        # A new submit form (slixmpp 1.8 cannot turn a received form with option-less fields into one): FORM_TYPE
        # as received, the rest filled in.
        answer = self['xep_0004'].make_form(ftype='submit')
        answer.add_field(var='FORM_TYPE', ftype='hidden', value=form.get_fields()['FORM_TYPE']['value'])
        answer.add_field(var='label', value=self.args.label)
        answer.add_field(var='scope', value=self.args.scope)
        answer.add_field(var='nodes', ftype='text-multi', value=self.args.nodes)
        answer.add_field(var='expires', value=self.args.expires)
        session['payload'] = answer
        session['next'] = self.guarded(self.on_completed)
        self['xep_0050'].complete_command(session)

    def on_completed(self, iq, session):
        command = iq['command']
        emit('completed', status=command['status'], notes=[list(note) for note in command['notes']],
             values=command['form']['values'])
        if not self.completed.done():
            self.completed.set_result(None)

    def on_error(self, iq, session):
        self.fail('the command failed: %s %s' % (iq['error']['condition'], iq['error']['text']))
        self['xep_0050'].terminate_command(session)

    async def scenario(self):
        server, adhoc = self.args.server, self['xep_0050']
        self.send_presence()
        items = await adhoc.get_commands(jid=server, timeout=10)
        emit('commands', items=[[str(jid), node, name] for jid, node, name in items['disco_items']['items']])
        adhoc.start_command(server, self.args.node, {'next': self.guarded(self.on_form), 'error': self.guarded(self.on_error)})
        await asyncio.wait_for(self.completed, timeout=10)
        listed = await adhoc.send_command(server, self.args.list_node, timeout=10)
        rows = listed['command']['form']['items']
        emit('listed', status=listed['command']['status'], ids=[row['id'] for row in rows])


async def run(args):
    finished = asyncio.get_running_loop().create_future()
    await run_until_finished(Client(args, finished), finished, args)


def main_args():
    parser = arguments(__doc__, timeout=30.0)
    parser.add_argument('--server', required=True)
    parser.add_argument('--node', required=True, help='the command to run through its form')
    parser.add_argument('--list-node', required=True, help='a command that completes at once with a result table')
    parser.add_argument('--label', required=True)
    parser.add_argument('--scope', required=True)
    parser.add_argument('--nodes', action='append', default=[])
    parser.add_argument('--expires', required=True)
    main('slix_adhoc.py', parser, run)


if __name__ == '__main__':
    main_args()
