// XEP-0092 Software Version.
import { z } from 'zod';
import os from 'node:os';
import { defineModule } from '../../core/module-api.js';
import { xml } from '../../core/xml/element.js';

export const NS_VERSION = 'jabber:iq:version';

export default defineModule({
  name: 'version',
  spec: 'XEP-0092',
  description: 'Tells the server software name and version (and the OS, if show_os is set)',
  options: z.object({ show_os: z.boolean().default(false) }).strict().default({ show_os: false }),
  setup(m) {
    m.feature(NS_VERSION);
    const reply = () =>
      xml(
        'query',
        { xmlns: NS_VERSION },
        xml('name', {}, 'Quire'),
        xml('version', {}, m.server.options.version),
        // §4: revealing the OS is a privacy choice; off by default.
        m.options.show_os ? xml('os', {}, `${os.type()} ${os.release()}`) : null,
      );
    m.iq('get', NS_VERSION, 'query', reply);
  },
});
