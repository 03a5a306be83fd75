// fan-out: one account publishes items (XEP-0060 §7.1) and K accounts receive the notifications, either as
// subscribers of a node on the server's PubSub service or as contacts of the publisher's PEP node (XEP-0163,
// interest shown with XEP-0115 caps and '+notify'). The publish rate steps up until p99 exceeds 100 ms.
import { createHash } from 'node:crypto';
import type { XmppClient } from '../lib/client.js';
import type { Job, JobResult } from '../lib/job.js';
import { fanoutUser, PUBLISHER } from '../lib/layout.js';
import { closeAll, log, loginAll, lowestNote, RateStep, rateSearch } from '../lib/pool.js';
import { attr, innerAttr } from '../lib/scanner.js';
import { cpuSeconds, sleep } from '../lib/proc.js';

const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const PEP_NODE = 'urn:quire:bench:pep';

/** XEP-0115 §5.1 verification string for the identity and features the bench clients answer with. */
function capsVer(features: string[]): string {
  const s = 'client/bot//bench<' + [...features].sort().map((f) => f + '<').join('');
  return createHash('sha1').update(s).digest('base64');
}

/** The JID of the server's PubSub service (XEP-0060 §5.1: an item whose identity is pubsub/service), or null. */
async function findPubsubService(publisher: XmppClient, domain: string): Promise<string | null> {
  const items = await publisher.iq(`<query xmlns='${NS_DISCO_ITEMS}'/>`, `type='get' to='${domain}'`);
  const jids: string[] = [];
  let at = 0;
  for (let i = 0; i < 200; i++) {
    at = items.indexOf('<item', at + 1);
    if (at === -1) break;
    const jid = attr(items.slice(at), 'jid');
    if (jid) jids.push(jid);
  }
  for (const jid of jids) {
    const info = await publisher.iq(`<query xmlns='${NS_DISCO_INFO}'/>`, `type='get' to='${jid}'`).catch(() => '');
    if (/category=['"]pubsub['"][^>]*type=['"]service['"]|type=['"]service['"][^>]*category=['"]pubsub['"]/.test(info)) return jid;
  }
  return null;
}

export async function fanout(job: Job): Promise<JobResult> {
  const pep = job.variant === 'pep';
  const k = job.layout.fanout;
  const prefix = 'i' + Math.random().toString(36).slice(2, 6) + '-';
  const node = pep ? PEP_NODE : `bench-${prefix.slice(1, -1)}`;
  let step: RateStep | null = null;
  let warm = 0;
  const onStanza = (text: string) => {
    if (!text.startsWith('<message')) return;
    const id = innerAttr(text, 'item', 'id');
    if (!id || !id.startsWith(prefix)) return;
    if (step) step.deliver(parseInt(id.slice(prefix.length), 36), performance.now());
    else warm++;
  };

  const [pub] = (await loginAll(job, [PUBLISHER], 1, 60_000)).clients;
  if (!pub) return { figures: {}, note: 'the publisher could not log in' };
  const done = async (result: JobResult, clients: XmppClient[] = []) => {
    await closeAll([pub, ...clients]);
    return result;
  };

  // Is there a service to publish to?
  let service = '';
  if (pep) {
    const info = await pub.iq(`<query xmlns='${NS_DISCO_INFO}'/>`, `type='get' to='${PUBLISHER}@${job.domain}'`).catch(() => '');
    if (!/category=['"]pubsub['"][^>]*type=['"]pep['"]|type=['"]pep['"][^>]*category=['"]pubsub['"]/.test(info)) return done({ figures: {}, note: 'skipped: no PEP service' });
  } else {
    const found = await findPubsubService(pub, job.domain).catch(() => null);
    if (!found) return done({ figures: {}, note: 'skipped: no pubsub service' });
    service = found;
    const created = await pub.iq(`<pubsub xmlns='${NS_PUBSUB}'><create node='${node}'/></pubsub>`, `type='set' to='${service}'`);
    if (!created.includes("type='result'") && !created.includes('type="result"') && !created.includes('conflict')) return done({ figures: {}, note: `node creation failed: ${created.slice(0, 300)}` });
  }

  // The K receivers: PEP contacts announce '+notify' in their caps; PubSub subscribers subscribe.
  const features = [NS_DISCO_INFO, `${PEP_NODE}+notify`];
  const caps = `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://quire.im/bench' ver='${capsVer(features)}'/>`;
  const users = Array.from({ length: k }, (_, i) => fanoutUser(i + 1));
  const { clients, failures, firstError } = await loginAll(job, users, 100, 300_000, { presence: pep ? `<presence>${caps}</presence>` : '<presence/>', discoFeatures: features.slice(1) }, onStanza);
  log(`fanout ${job.variant}: ${clients.length} receivers online (${failures} failed)`);
  if (clients.length < k / 2) return done({ figures: {}, note: `too few receivers online: ${firstError}` }, clients);
  if (!pep) {
    let subscribed = 0;
    let subError = '';
    await Promise.all(
      clients.map((c) =>
        c
          .iq(`<pubsub xmlns='${NS_PUBSUB}'><subscribe node='${node}' jid='${c.jid}'/></pubsub>`, `type='set' to='${service}'`, 30_000)
          .then((r) => {
            if (r.includes("type='result'") || r.includes('type="result"')) subscribed++;
            else if (!subError) subError = r.slice(0, 300);
          })
          .catch((err: Error) => (subError ||= err.message)),
      ),
    );
    log(`fanout pubsub: ${subscribed} subscribed to ${node} on ${service}`);
    if (subscribed < clients.length) return done({ figures: {}, note: `only ${subscribed} of ${clients.length} subscriptions succeeded: ${subError}` }, clients);
  }
  const to = pep ? '' : ` to='${service}'`;
  const publish = (seq: number) =>
    pub.send(`<iq type='set' id='p${seq.toString(36)}'${to}><pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item id='${prefix}${seq.toString(36)}'><entry xmlns='urn:quire:bench'>bench ${Date.now()}</entry></item></publish></pubsub></iq>`);

  // Warm-up publish: caps verification and node creation on first publish happen here, not in a step.
  let seq = 1;
  publish(0);
  for (let i = 0; i < 100 && warm < clients.length; i++) await sleep(100);
  await sleep(1000);
  log(`fanout ${job.variant}: warm-up item reached ${warm} of ${clients.length}`);
  if (warm < clients.length * 0.9) return done({ figures: {}, note: `only ${warm} of ${clients.length} receivers got the first item` }, clients);

  const seconds = job.quick ? 2 : 4;
  const cpu0 = cpuSeconds(job.serverPid);
  const t0 = performance.now();
  const { steps, best } = await rateSearch(2, job.quick ? 1.5 : 2, job.quick ? 6 : 12, async (rate) => {
    step = new RateStep(rate, seconds, clients.length, seq);
    const r = await step.run(publish, 2000);
    seq += step.capacity;
    step = null;
    await sleep(500);
    return r;
  });
  const serverCpu = (cpuSeconds(job.serverPid) - cpu0) / ((performance.now() - t0) / 1000);
  if (!best) return done({ figures: {}, note: lowestNote(steps, 'publishes/s'), details: { steps } }, clients);
  return done(
    {
      figures: { notifications_per_s: best.delivered, p50_ms: best.p50, p99_ms: best.p99 },
      note: failures ? `${failures} logins failed: ${firstError}` : undefined,
      details: { receivers: clients.length, publishes_per_s: best.offered, steps, server_cpu: serverCpu },
    },
    clients,
  );
}
