// The interfaces are defined in core (src/core/storage-api.ts) so that core code never imports a backend.
export * from '../core/storage-api.js';
