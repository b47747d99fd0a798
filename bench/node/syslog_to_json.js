// The work of AWS's `kinesis-firehose-syslog-to-json` Lambda blueprint (Node.js), written for this benchmark from
// its documented behaviour (../shared/reference/firehose-contract.md, section 4.5), not copied: the same RFC 3164
// regular expression and output keys, the record read as ASCII, one JSON object per record without a newline,
// and `ProcessingFailed` with the original data for a line it does not match.
'use strict';

const { lineHandler } = require('./line_blueprint.js');

const MONTH = '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';
const DAY = '(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])';
const TIME = '(?:(?:2[0123]|[01]?[0-9]):(?:[0-5][0-9]):(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?))';
const LINE = new RegExp(
  `^((?:\\b${MONTH}\\b\\s+${DAY}\\s+${TIME})) (?:<(?:[0-9]+).(?:[0-9]+)> )?((?:[a-zA-Z0-9._-]+)) ([\\w._/%-]+)(?:\\[((?:[1-9][0-9]*))\\])?: (.*)`,
);

function transform(line) {
  const m = LINE.exec(line);
  if (!m) return null;
  return JSON.stringify({ timestamp: m[1], hostname: m[2], program: m[3], processid: m[4] === undefined ? null : m[4], message: m[5] });
}

exports.handler = lineHandler('ascii', transform);
