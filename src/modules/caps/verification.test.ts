// XEP-0115 §5.2 and §5.3: the worked examples of the verification string, and the §5.4 ill-formed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '../../core/xml/element.js';
import { NS_DISCO_INFO, verificationInput, verificationString } from './verification.js';

const feature = (v: string) => xml('feature', { var: v });
const field = (v: string, values: string[], type?: string) => xml('field', { var: v, type }, ...values.map((value) => xml('value', {}, value)));

test('§5.2 simple example: client/pc//Exodus 0.9.1 gives QgayPKawpkPSDYmwT/WM94uAlu0=', () => {
  const query = xml(
    'query',
    { xmlns: NS_DISCO_INFO },
    xml('identity', { category: 'client', type: 'pc', name: 'Exodus 0.9.1' }),
    feature('http://jabber.org/protocol/disco#info'),
    feature('http://jabber.org/protocol/disco#items'),
    feature('http://jabber.org/protocol/muc'),
    feature('http://jabber.org/protocol/caps'),
  );
  assert.equal(
    verificationInput(query),
    'client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<',
  );
  assert.equal(verificationString(query, 'sha-1'), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
});

test('§5.3 complex example: two languages and a software-info form give q07IKJEyjvHSyhy//CH0CxmKi8w=', () => {
  const query = xml(
    'query',
    { xmlns: NS_DISCO_INFO },
    xml('identity', { 'xml:lang': 'en', category: 'client', name: 'Psi 0.11', type: 'pc' }),
    xml('identity', { 'xml:lang': 'el', category: 'client', name: 'Ψ 0.11', type: 'pc' }),
    feature('http://jabber.org/protocol/caps'),
    feature('http://jabber.org/protocol/disco#info'),
    feature('http://jabber.org/protocol/disco#items'),
    feature('http://jabber.org/protocol/muc'),
    xml(
      'x',
      { xmlns: 'jabber:x:data', type: 'result' },
      field('FORM_TYPE', ['urn:xmpp:dataforms:softwareinfo'], 'hidden'),
      field('ip_version', ['ipv6', 'ipv4'], 'text-multi'),
      field('os', ['Mac']),
      field('os_version', ['10.5.1']),
      field('software', ['Psi']),
      field('software_version', ['0.11']),
    ),
  );
  assert.equal(verificationString(query, 'sha-1'), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
});

test('§5.4: duplicate features or identities make the response ill-formed; unknown hashes are not computed', () => {
  const twice = xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'client', type: 'pc' }), feature('a'), feature('a'));
  assert.equal(verificationString(twice, 'sha-1'), null);
  const twoIdentities = xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'client', type: 'pc' }), xml('identity', { category: 'client', type: 'pc' }));
  assert.equal(verificationString(twoIdentities, 'sha-1'), null);
  const fine = xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'client', type: 'pc' }), feature('a'));
  assert.equal(verificationString(fine, 'md5'), null);
  assert.match(verificationString(fine, 'sha-256') ?? '', /^[A-Za-z0-9+/]{43}=$/);
});

test('§5.4 3.6: a form whose FORM_TYPE is not hidden is left out', () => {
  const withForm = xml(
    'query',
    { xmlns: NS_DISCO_INFO },
    xml('identity', { category: 'client', type: 'pc' }),
    xml('x', { xmlns: 'jabber:x:data', type: 'result' }, field('FORM_TYPE', ['urn:example'])),
  );
  assert.equal(verificationInput(withForm), 'client/pc//<');
});
