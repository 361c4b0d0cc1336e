/** Timestamp string forms shared by decode/ and project/. */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const isDigit = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};
const two = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/**
 * "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" naming a real instant (every field in range): the form Debezium
 * sends timestamptz in and the form the decoder and the mart state give every timestamp. For such
 * a string, Date.parse and toISOString give back its own fields, so a normalised form or a bucket
 * is a prefix of the string itself (a fast path, exact). Anything else — an offset, a space, day 30
 * of February or 24:00 (which Date.parse rolls over) — must take the general path.
 */
export function isPlainUtc(s: string): boolean {
  const n = s.length;
  if (n < 20 || n === 21 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */) return false;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return false;
  if (n > 20) {
    if (s[19] !== '.') return false;
    for (let i = 20; i < n - 1; i++) if (!isDigit(s, i)) return false;
  }
  for (const i of DIGIT_AT) if (!isDigit(s, i)) return false;
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return false;
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  return hour <= 23 && minute <= 59 && second <= 59;
}
