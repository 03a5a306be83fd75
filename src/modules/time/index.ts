// XEP-0202 Entity Time.
import { defineModule } from '../../core/module-api.js';
import { xml } from '../../core/xml/element.js';

export const NS_TIME = 'urn:xmpp:time';

export default defineModule({
  name: 'time',
  spec: 'XEP-0202',
  description: "Tells the server's current time",
  setup(m) {
    m.feature(NS_TIME);
    // §3: UTC per XEP-0082 and the offset of the server's timezone.
    m.iq('get', NS_TIME, 'time', () => {
      const now = new Date();
      return xml('time', { xmlns: NS_TIME }, xml('tzo', {}, timezoneOffset(now)), xml('utc', {}, now.toISOString().replace(/\.\d{3}Z$/, 'Z')));
    });
  },
});

function timezoneOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
