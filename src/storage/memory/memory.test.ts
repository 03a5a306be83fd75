import { MemoryBackend } from './index.js';
import { storageSuite } from '../suite.js';

storageSuite('memory', async () => ({ backend: new MemoryBackend() }));
