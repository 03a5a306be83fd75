// Dates as the formats need them: RFC 3339 for Atom (RFC 4287 §3.3) and JSON Feed, RFC 822 for RSS 2.0
// (pubDate, lastBuildDate), and whatever real-world feeds carry when they are imported.

// RFC 3339 §5.6 date-time, with RFC 4287 §3.3's extra rule: an uppercase "T" between date and time, and an
// uppercase "Z" when there is no numeric offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The instant an RFC 3339 date-time (RFC 4287 §3.3 form) stands for, or undefined when it is not one. */
export function parseRfc3339(value: string): Date | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  // RFC 3339 §5.7: ranges; a leap second (60) is allowed, and Date folds it into the next minute.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined;
  const time = Date.parse(value.replace(/:60(?=[.Z+-])/, ':59'));
  if (Number.isNaN(time)) return undefined;
  return new Date(second === 60 ? time + 1000 : time);
}

export function isRfc3339(value: string): boolean {
  return parseRfc3339(value) !== undefined;
}

/** An instant as an RFC 3339 date-time in UTC, to the second: 2008-05-08T18:30:02Z. */
export function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RSS 2.0 dates are RFC 822 date-times (with a four-digit year): Thu, 08 May 2008 18:30:02 GMT. */
export function toRfc822(date: Date): string {
  return date.toUTCString();
}

/** HTTP's IMF-fixdate (RFC 9110 §5.6.7), for Last-Modified: the same form as RFC 822 with GMT. */
export function toHttpDate(date: Date): string {
  return date.toUTCString();
}

/** The time of an RFC 3339 value, for sorting; 0 for a value that is not one (stored items from elsewhere). */
export function timeOf(value: string | undefined): number {
  if (!value) return 0;
  return parseRfc3339(value)?.getTime() ?? 0;
}

const RFC822_ZONES: Record<string, string> = { UT: '+0000', GMT: '+0000', Z: '+0000', EST: '-0500', EDT: '-0400', CST: '-0600', CDT: '-0500', MST: '-0700', MDT: '-0600', PST: '-0800', PDT: '-0700' };

/** A date as real feeds write it: RFC 3339 (strict or with lowercase letters or a space), RFC 822 with or without
 *  the weekday and with a two-digit year or a named zone; undefined when nothing sensible comes out. */
export function parseFeedDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (!text) return undefined;
  const strict = parseRfc3339(text.replace(/^(\d{4}-\d{2}-\d{2})[ t](?=\d)/, '$1T').replace(/z$/, 'Z'));
  if (strict) return strict;
  // RFC 822 §5.1: [day ","] date time zone; date = 1*2DIGIT month 2DIGIT (RFC 1123 allows 4 digits).
  const m = /^(?:[A-Za-z]{3,9},?\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2}|\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([A-Za-z]{1,5}|[+-]\d{4})?$/.exec(text);
  if (m) {
    const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
    const month = months.indexOf(m[2].toLowerCase());
    if (month < 0) return undefined;
    let year = Number(m[3]);
    if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
    const zone = m[7] ? (RFC822_ZONES[m[7].toUpperCase()] ?? (/^[+-]\d{4}$/.test(m[7]) ? m[7] : '+0000')) : '+0000';
    const iso = `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${m[1].padStart(2, '0')}T${m[4].padStart(2, '0')}:${m[5]}:${m[6] ?? '00'}${zone.slice(0, 3)}:${zone.slice(3)}`;
    return parseRfc3339(iso);
  }
  // A bare date (2008-05-08) is midnight UTC.
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return parseRfc3339(text + 'T00:00:00Z');
  return undefined;
}
