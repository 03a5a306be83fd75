// XMPP URIs (RFC 5122) for PubSub nodes and items, in the form XEP-0060 §12.21 and XEP-0277 use:
//   xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c
// The node and item are percent-encoded whole (XEP-0277 §location: "the ':' character from the namespace URN is
// percent-encoded in the query component"), which is what encodeURIComponent does; ';' and '=' are encoded too, so
// the pairs cannot be confused.

/** RFC 5122 §2.7: a JID in a URI path; characters that would end the path or start an escape are encoded. */
function encodeJid(jid: string): string {
  return jid.replace(/[%?#\s]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** The URI of a node: xmpp:service?;node=… */
export function xmppNodeUri(service: string, node: string): string {
  return `xmpp:${encodeJid(service)}?;node=${encodeURIComponent(node)}`;
}

/** The URI of one item of a node: xmpp:service?;node=…;item=… (XEP-0277 §atom_xmpp_integration: the ItemID). */
export function xmppItemUri(service: string, node: string, itemId: string): string {
  return `${xmppNodeUri(service, node)};item=${encodeURIComponent(itemId)}`;
}

/** An account's own URI (atom:author/atom:uri in XEP-0277's examples): xmpp:romeo@montague.lit */
export function xmppJidUri(jid: string): string {
  return `xmpp:${encodeJid(jid)}`;
}

export interface XmppUri {
  jid: string;
  /** The query's action, when there is one (the part right after '?', before the first ';'): '' for XEP-0060's form. */
  action?: string;
  params: Record<string, string>;
}

/** Reads an xmpp: URI back (RFC 5122 §2.2), tolerating the whitespace XEP-0277's examples put between the pairs. */
export function parseXmppUri(uri: string): XmppUri | undefined {
  const m = /^xmpp:(?:\/\/[^/?#]*\/)?([^?#]+)(?:\?([^#]*))?/i.exec(uri.trim());
  if (!m) return undefined;
  let jid: string;
  try {
    jid = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  const result: XmppUri = { jid, params: {} };
  if (m[2] !== undefined) {
    const [action, ...pairs] = m[2].replace(/\s+/g, '').split(';');
    result.action = action;
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      try {
        result.params[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
      } catch {
        return undefined;
      }
    }
  }
  return result;
}
