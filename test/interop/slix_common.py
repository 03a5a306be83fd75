"""What the slixmpp interop scripts share: JSON-line output, the run loop with its time limit, and the command line."""
import argparse
import asyncio
import json
import logging
import ssl
import sys


def emit(event, **fields):
    """One JSON line on stdout, read by the node test."""
    sys.stdout.write(json.dumps({'event': event, **fields}) + '\n')
    sys.stdout.flush()


class Failure(Exception):
    pass


def accept_test_certificate(xmpp):
    """The test server's certificate is self-signed and generated per run."""
    xmpp.ssl_context.check_hostname = False
    xmpp.ssl_context.verify_mode = ssl.CERT_NONE


def arguments(description, timeout=20.0):
    """A parser with the options every script takes; each adds its own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--jid', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument('--timeout', type=float, default=timeout, help='seconds for the whole scenario')
    parser.add_argument('--debug', action='store_true', help='log the XML stream to stderr')
    return parser


async def run_until_finished(xmpp, finished, args):
    """Connects to the test server and waits for the scenario to set `finished`, within args.timeout."""
    xmpp.connect(address=('127.0.0.1', args.port))
    try:
        await asyncio.wait_for(finished, timeout=args.timeout)
    except asyncio.TimeoutError:
        raise Failure('timed out after %s s' % args.timeout)
    finally:
        # Tell the 'disconnected' handlers that the ending is ours, then close the stream politely.
        if not finished.done():
            finished.cancel()
        await xmpp.disconnect(wait=2)
    emit('done')


def main(name, parser, run):
    """Parses the command line, runs the scenario, and exits 1 with the reason on failure."""
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR, stream=sys.stderr, format='%(levelname)s %(name)s: %(message)s')
    try:
        asyncio.run(run(args))
    except Failure as err:
        emit('error', message=str(err))
        sys.stderr.write('%s: %s\n' % (name, err))
        sys.exit(1)


def scenario_client(slixmpp, plugins):
    """A slixmpp client that logs in and runs its `scenario()` once the session starts: a failed IQ, a timeout, a
    stream error or an early disconnect ends the run with the reason (slixmpp is passed in: the scripts import it
    themselves, so that a missing slixmpp is reported by them)."""
    from slixmpp.exceptions import IqError, IqTimeout

    class ScenarioClient(slixmpp.ClientXMPP):
        def __init__(self, args, finished):
            super().__init__(args.jid, args.password)
            self.args = args
            self.finished = finished
            accept_test_certificate(self)
            for plugin in plugins:
                self.register_plugin(plugin)
            self.add_event_handler('failed_all_auth', lambda _: self.fail('authentication failed with every mechanism'))
            self.add_event_handler('stream_error', lambda err: self.fail('stream error: %s' % err['condition']))
            self.add_event_handler('disconnected', lambda _: self.fail('disconnected before the scenario finished'))
            self.add_event_handler('connection_failed', lambda err: self.fail('connection failed: %s' % err))
            self.add_event_handler('session_start', self.on_session_start)

        def fail(self, message):
            if not self.finished.done():
                self.finished.set_exception(Failure(message))

        async def on_session_start(self, _event):
            try:
                await self.scenario()
            except IqError as err:
                self.fail('%s failed: %s %s' % (err.iq['id'], err.iq['error']['condition'], err.iq['error']['text']))
            except IqTimeout:
                self.fail('no answer in time')
            except Failure as err:
                self.fail(str(err))
            else:
                if not self.finished.done():
                    self.finished.set_result(None)

    return ScenarioClient
