/**
 * A config file that cannot be used. `message` is the complete user-facing text: one line per problem, each naming
 * file:line:col, the key path, what is wrong and how to fix it. Print it as is.
 */
export class ConfigError extends Error {
  readonly code = 'ERR_QUIRE_CONFIG';
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(message);
  }
}
