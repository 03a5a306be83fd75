import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from './events.js';

test('handlers run from the highest priority down, and the first result stops the chain', () => {
  const bus = new EventBus();
  const ran: string[] = [];
  bus.on('message/bare', () => void ran.push('low'), -10);
  bus.on('message/bare', () => {
    ran.push('high');
    return undefined;
  }, 10);
  bus.on('message/bare', () => {
    ran.push('middle');
    return 'handled';
  });
  assert.equal(bus.fire('message/bare', {}), 'handled');
  assert.deepEqual(ran, ['high', 'middle']);
});

test('handlers of equal priority run in registration order', () => {
  const bus = new EventBus();
  const ran: number[] = [];
  for (let i = 0; i < 5; i++) bus.on('x', () => void ran.push(i));
  bus.fire('x', null);
  assert.deepEqual(ran, [0, 1, 2, 3, 4]);
});

test('an unregistered handler no longer runs, even when removed during fire()', () => {
  const bus = new EventBus();
  const ran: string[] = [];
  const offB = bus.on('x', () => void ran.push('b'), 0);
  bus.on('x', () => {
    ran.push('a');
    offB();
  }, 1);
  bus.fire('x', null);
  bus.fire('x', null);
  assert.deepEqual(ran, ['a', 'b', 'a']);
  assert.equal(bus.has('y'), false);
});

test('a fold threads a value through every handler, and null drops it', () => {
  const bus = new EventBus();
  bus.fold<number, null>('f', (v) => v + 1);
  bus.fold<number, null>('f', (v) => v * 10, 5);
  assert.equal(bus.runFold('f', 1, null), 11);
  bus.fold<number | null, null>('f', () => null, -5);
  assert.equal(bus.runFold('f', 1, null), null);
  assert.equal(bus.runFold('none', 7, null), 7);
});
