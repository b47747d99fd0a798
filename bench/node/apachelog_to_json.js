// The work of AWS's `kinesis-firehose-apachelog-to-json` Lambda blueprint (Node.js), written for this benchmark
// from its documented behaviour (../shared/reference/firehose-contract.md, section 4.3), not copied: the same
// regular expression and output keys, one JSON object per record without a newline, and `ProcessingFailed` with
// the original data for a line it does not match.
'use strict';

const { lineHandler } = require('./line_blueprint.js');

const LINE = /^([\d.]+) (\S+) (\S+) \[([\w:/]+)(\s[+-]\d{4}){0,1}\] "(.+?)" (\d{3}) (\d+)/;
const MONTHS = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

// `01/May/2024:12:30:00` as a Date of those wall-clock figures (the zone is given apart).
function wallClock(text) {
  const [day, month, rest] = text.split('/');
  const [year, hour, minute, second] = rest.split(':').map(Number);
  return new Date(Date.UTC(year, MONTHS[month], Number(day), hour, minute, second));
}

function transform(line) {
  const m = LINE.exec(line);
  if (!m) return null;
  const out = { host: m[1], ident: m[2], authuser: m[3], request: m[6], response: parseInt(m[7], 10), bytes: parseInt(m[8], 10) };
  const words = m[6].split(' ');
  if (words.length > 1) out.verb = words[0];
  const at = wallClock(m[4]);
  out['@timestamp'] = at.toISOString();
  if (m[5]) {
    const zone = m[5].trim();
    out.timezone = zone;
    const minutes = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
    out['@timestamp_utc'] = new Date(at.getTime() - minutes * 60000).toISOString();
  }
  return JSON.stringify(out);
}

exports.handler = lineHandler('utf8', transform);
