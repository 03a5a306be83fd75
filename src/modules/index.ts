// Every module Quire ships, by the name the config uses. One folder per specification.
import type { ModuleDefinition } from '../core/module-api.js';
import disco from './disco/index.js';
import ping from './ping/index.js';
import register from './register/index.js';
import time from './time/index.js';
import version from './version/index.js';

// Each module is typed by its own options; the registry only needs their common shape.
const all = [disco, ping, register, time, version] as unknown as ModuleDefinition<unknown>[];

export const availableModules = new Map<string, ModuleDefinition<unknown>>(all.map((m) => [m.name, m]));
